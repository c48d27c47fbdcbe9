"""Celery tasks of the WhatsApp channel: thin, they take ids and call the inbox. Sending
is the outbox's (``conversations.tasks``), through this channel's registered transport."""

from __future__ import annotations

from celery import shared_task

from channels_whatsapp import inbox


@shared_task(acks_late=True)
def record_deliveries(channel_id: int) -> None:
    """One pass over a channel's acknowledged deliveries (``inbox``)."""
    inbox.recording_started(channel_id=channel_id)
    inbox.deliveries_record(channel_id=channel_id)


@shared_task
def recover_deliveries() -> None:
    """Run by beat with the routing sweep: records deliveries no task took care of."""
    inbox.deliveries_recover()
