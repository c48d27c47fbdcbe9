from django.apps import AppConfig


class ChannelsWhatsappConfig(AppConfig):
    name = "channels_whatsapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plug the Cloud API transport into the core's outbox for WhatsApp channels, and
        sync a number's templates when the core asks."""
        from channels_whatsapp import templates, transport
        from conversations import channels
        from conversations.models import ChannelKind
        from conversations.signals import templates_sync_requested

        channels.register(kind=ChannelKind.WHATSAPP, transport=transport)
        templates_sync_requested.connect(
            templates.sync_requested, dispatch_uid="channels_whatsapp.templates"
        )
