"""Celery tasks of the outbox: thin, they take ids and call the messaging service."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings

from conversations.channels import MediaRetryLater
from conversations.media import media_download, media_fail
from conversations.messaging import SendDeferred, message_transmit, messages_hand_over_overdue


@shared_task(bind=True, acks_late=True, max_retries=None)
def send_message(self: Task, message_id: int) -> None:
    """Send one outbound message through its channel's transport. The message row counts
    the attempts and fails the message after the last one, so the retries here need no
    limit of their own."""
    try:
        message_transmit(message_id=message_id)
    except SendDeferred as later:
        raise self.retry(countdown=later.retry_in) from later


@shared_task
def hand_over_overdue_messages() -> None:
    """Run by beat with the routing sweep: hands over again the outbound messages whose
    hand-over no worker took (the broker was down, a task was lost)."""
    messages_hand_over_overdue()


@shared_task(bind=True, acks_late=True, max_retries=None)
def download_media(self: Task, message_id: int) -> None:
    """Fetch and keep a customer's file. A failure that may pass is tried again after
    ``MEDIA_DOWNLOAD_RETRY_SECONDS``, doubling, ``MEDIA_DOWNLOAD_ATTEMPTS`` times in all;
    then the medium is marked failed."""
    try:
        media_download(message_id=message_id)
    except MediaRetryLater as exc:
        attempt = self.request.retries + 1
        if attempt >= settings.MEDIA_DOWNLOAD_ATTEMPTS:
            media_fail(
                message_id=message_id, reason=f"not downloaded after {attempt} attempts: {exc}"
            )
            return
        wait = settings.MEDIA_DOWNLOAD_RETRY_SECONDS * 2 ** (attempt - 1)
        raise self.retry(countdown=wait) from exc
