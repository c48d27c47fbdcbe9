"""``manage.py bootstrap_demo``: the demo organization, idempotently."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from conversations.demo import DEMO_PASSWORD, bootstrap_demo


class Command(BaseCommand):
    help = "Create (once) the demo organization, its projects, channel, supervisor and agents."

    def handle(self, *args: Any, **options: Any) -> None:
        organization, channel, members = bootstrap_demo()
        base = settings.PUBLIC_BASE_URL
        self.stdout.write(f"Demo organization: {organization.name} (id {organization.pk})")
        self.stdout.write(
            f"WhatsApp channel id {channel.pk}: {channel.display_phone_number}, "
            f"webhook {base}/webhooks/whatsapp/{channel.key}/"
        )
        self.stdout.write(f"Dock: {base}/dock/   Supervision: {base}/supervision/")
        self.stdout.write(f"Logins (password {DEMO_PASSWORD}):")
        for member in members:
            self.stdout.write(
                f"  {member.user.email:32} {member.role:10} max_open={member.max_open} "
                f"languages={','.join(member.languages)} skills={','.join(member.skills)}"
            )
