"""``python -m bench.seed --agents N --max-open M [--queued Q] [--outbound K]``

Seeds the database of ``DATABASE_URL`` for one benchmark or fault test and prints one
JSON line with what it made. It runs as its own process because the fault tests' pytest
process is bound to another database."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def seed(*, agents: int, max_open: int, queued: int, outbound: int) -> dict[str, Any]:
    from django.db import transaction
    from django.utils import timezone

    from bench.common import APP_SECRET, seed_organization
    from conversations.models import (
        Contact,
        Conversation,
        ConversationStatus,
        Direction,
        Message,
        MessageStatus,
    )
    from routing import router

    with transaction.atomic():
        made = seed_organization(agents=agents, max_open=max_open)
        organization, channel, members = made["organization"], made["channel"], made["members"]
        now = timezone.now()
        contacts = Contact.objects.bulk_create(
            Contact(organization=organization, wa_id=f"4471{i:08d}", name=f"Waiting {i}")
            for i in range(queued)
        )
        Conversation.objects.bulk_create(
            Conversation(
                organization=organization,
                project=channel.project,
                channel=channel,
                contact=contact,
                status=ConversationStatus.QUEUED,
                language="en",
                queued_at=now,
                last_inbound_at=now,
            )
            for contact in contacts
        )
        sent: list[dict[str, str]] = []
        if outbound:
            customer = Contact.objects.create(
                organization=organization, wa_id="447200000001", name="Talking customer"
            )
            conversation = Conversation.objects.create(
                organization=organization,
                project=channel.project,
                channel=channel,
                contact=customer,
                status=ConversationStatus.ASSIGNED,
                agent=members[0],
                language="en",
                assigned_at=now,
                last_inbound_at=now,
            )
            router.count_moved(conversation, None)
            for i in range(outbound):
                message = Message.objects.create(
                    conversation=conversation,
                    channel=channel,
                    direction=Direction.OUT,
                    text=f"answer {i}",
                    status=MessageStatus.SENT,
                    wamid=f"wamid.out.{organization.pk}.{i}",
                    sender=members[0],
                )
                sent.append({"wamid": message.wamid or "", "to": customer.wa_id or ""})
    return {
        "organization": organization.pk,
        "channel": channel.pk,
        "channel_key": channel.key,
        "phone_number_id": channel.phone_number_id,
        "app_secret": APP_SECRET,
        "members": [m.pk for m in members],
        "outbound": sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--max-open", type=int, default=3)
    parser.add_argument("--queued", type=int, default=0)
    parser.add_argument("--outbound", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")
    import django

    django.setup()
    made = seed(
        agents=args.agents, max_open=args.max_open, queued=args.queued, outbound=args.outbound
    )
    print(json.dumps(made))


if __name__ == "__main__":
    main()
