"""Celery tasks of the outbox and of the first-reply target: thin, they take ids and call
the services."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.conf import settings

from conversations import receipts
from conversations.channels import MediaRetryLater
from conversations.media import media_download, media_fail
from conversations.messaging import (
    SendDeferred,
    SendFailure,
    TransientSendError,
    message_transmit,
    messages_hand_over_overdue,
)
from conversations.sla import conversation_sla_breach, sla_breaches_sweep

logger = logging.getLogger(__name__)


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


@shared_task(acks_late=True)
def breach_sla(conversation_id: int) -> None:
    """Scheduled for a conversation's first-reply deadline: records and announces its
    breach unless it was answered, closed or recorded meanwhile."""
    conversation_sla_breach(conversation_id=conversation_id)


@shared_task
def sweep_sla_breaches() -> None:
    """Run by beat: the breaches no scheduled check recorded (a deadline beyond the
    task horizon, a task lost)."""
    sla_breaches_sweep()


@shared_task(bind=True, max_retries=3)
def send_read_receipt(self: Task, message_id: int) -> None:
    """Show the customer their message read; a busy platform is tried again shortly."""
    try:
        receipts.read_receipt_send(message_id=message_id)
    except TransientSendError as exc:
        raise self.retry(countdown=2**self.request.retries) from exc
    except SendFailure as exc:
        logger.warning("read receipt refused", extra={"message": message_id, "error": str(exc)})


@shared_task
def send_typing(conversation_id: int) -> None:
    """Show the customer the agent typing. Not retried: a late indicator is a wrong one."""
    try:
        receipts.typing_send(conversation_id=conversation_id)
    except (TransientSendError, SendFailure) as exc:
        logger.info(
            "typing indicator not sent", extra={"conversation": conversation_id, "error": str(exc)}
        )


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
