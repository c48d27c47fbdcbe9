from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """History and planning: the figures of a past period (``summary``) and how many
    agents a load needs (``erlang``, ``replay``). It reads the core and routing's rules
    and writes nothing."""

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
