"""Celery tasks of the WhatsApp channel: thin, they take ids and call the messaging service."""

from __future__ import annotations

import random

from celery import shared_task

from channels_whatsapp import inbox, transport
from conversations.messaging import TransientSendError, message_fail, message_transmit

MAX_RETRIES = 8


def backoff(retries: int) -> float:
    """1, 2, 4 ... seconds, at most a minute, with jitter so retries do not march together."""
    return min(2**retries, 60) * (0.75 + random.random() / 2)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def send_message(self, message_id: int) -> None:
    try:
        message_transmit(message_id=message_id, transport=transport)
    except TransientSendError as exc:
        if self.request.retries >= self.max_retries:
            message_fail(
                message_id=message_id,
                error={"code": None, "title": "not sent after retries", "message": str(exc)},
            )
            return
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def record_deliveries(channel_id: int) -> None:
    """One pass over a channel's acknowledged deliveries (``inbox``)."""
    inbox.recording_started(channel_id=channel_id)
    inbox.deliveries_record(channel_id=channel_id)


@shared_task
def recover_deliveries() -> None:
    """Run by beat with the routing sweep: records deliveries no task took care of."""
    inbox.deliveries_recover()
