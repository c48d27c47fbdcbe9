from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Event webhooks: an organization's subscriptions, the outbox of their events and the
    delivery of each, signed, to the subscriber's URL."""

    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Keep every published event for the subscriptions that want it, in the
        publisher's transaction."""
        from conversations.signals import events_published
        from webhooks import services

        events_published.connect(services.events_record, dispatch_uid="webhooks-outbox")
