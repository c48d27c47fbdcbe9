from django.apps import AppConfig


class DockConfig(AppConfig):
    """The people's edges: the agent's dock (page and websocket) and the supervision board."""

    name = "dock"
    default_auto_field = "django.db.models.BigAutoField"
