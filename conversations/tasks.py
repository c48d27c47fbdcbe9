"""Celery tasks of the outbox: thin, they take ids and call the messaging service."""

from __future__ import annotations

from celery import Task, shared_task

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
