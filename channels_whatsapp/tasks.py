"""Celery tasks of the WhatsApp channel: thin, they take ids and call the inbox. Sending
is the outbox's (``conversations.tasks``), through this channel's registered transport."""

from __future__ import annotations

from celery import Task, shared_task

from channels_whatsapp import inbox, templates
from conversations.models import Channel


@shared_task(acks_late=True)
def record_deliveries(channel_id: int) -> None:
    """One pass over a channel's acknowledged deliveries (``inbox``)."""
    inbox.recording_started(channel_id=channel_id)
    inbox.deliveries_record(channel_id=channel_id)


@shared_task
def recover_deliveries() -> None:
    """Run by beat with the routing sweep: records deliveries no task took care of."""
    inbox.deliveries_recover()


@shared_task(bind=True, max_retries=5)
def sync_templates(self: Task, channel_id: int) -> None:
    """Read one number's templates (it was connected, or its business account changed);
    a platform that cannot be read now is tried again a little later."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.business_account_id:
        return
    try:
        templates.templates_sync(channel=channel)
    except templates.TemplateSyncError as exc:
        raise self.retry(countdown=5 * 2**self.request.retries) from exc


@shared_task
def sync_all_templates() -> None:
    """Run daily by beat: every number's templates, as the platform now has them."""
    templates.templates_sync_all()
