from django.apps import AppConfig


class PresenceConfig(AppConfig):
    name = "presence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every member has a presence row from the start: Offline, set by the system; a
        member who can no longer sign in turns Offline; a new organization gets the default
        Busy reasons."""
        from conversations.signals import member_created, member_deactivated, organization_created
        from presence.services import (
            on_member_created,
            on_member_deactivated,
            on_organization_created,
        )

        member_created.connect(on_member_created, dispatch_uid="presence.member_created")
        member_deactivated.connect(
            on_member_deactivated, dispatch_uid="presence.member_deactivated"
        )
        organization_created.connect(
            on_organization_created, dispatch_uid="presence.organization_created"
        )
