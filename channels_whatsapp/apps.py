from django.apps import AppConfig


class ChannelsWhatsappConfig(AppConfig):
    name = "channels_whatsapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plug the Cloud API transport into the core's outbox for WhatsApp channels."""
        from channels_whatsapp import transport
        from conversations import channels
        from conversations.models import ChannelKind

        channels.register(kind=ChannelKind.WHATSAPP, transport=transport)
