"""``manage.py create_org --name NAME --admin-email E --admin-password P``"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.services import EmailTaken, PasswordRefused, organization_create


class Command(BaseCommand):
    help = "Create an organization with its first admin; print its ids and the admin's API token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be empty")
        try:
            admin = organization_create(
                name=name,
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
            )
        except EmailTaken as exc:
            raise CommandError(str(exc)) from exc
        except PasswordRefused as exc:
            raise CommandError(f"--admin-password is refused: {exc}") from exc
        line = {"org": admin.organization_id, "user": admin.pk, "token": admin.user.auth_token.key}
        self.stdout.write(json.dumps(line))
