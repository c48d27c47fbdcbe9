"""Celery tasks of the outbox and of the first-reply target: thin, they take ids and call
the services."""

from __future__ import annotations

from celery import Task, shared_task

from conversations.messaging import SendDeferred, message_transmit, messages_hand_over_overdue
from conversations.sla import conversation_sla_breach, sla_breaches_sweep


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
