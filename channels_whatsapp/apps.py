from django.apps import AppConfig


class ChannelsWhatsappConfig(AppConfig):
    name = "channels_whatsapp"
    default_auto_field = "django.db.models.BigAutoField"
