from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Route an organization's queue whenever the core or presence says it may have
        changed."""
        from conversations.signals import routing_requested
        from routing.triggers import on_routing_requested

        routing_requested.connect(on_routing_requested, dispatch_uid="routing.requested")
