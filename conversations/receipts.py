"""What the customer sees of the agent: their messages shown read, and the agent typing.

Both ride on one call of the platform (the Cloud API's ``status: read`` for a message,
with a typing indicator when the agent types), made by a Celery task, never in a request
or the dock's socket. A read receipt is owed once per message: the conditional UPDATE of
``Message.read_receipt_at`` decides, so two docks opening a chat at the same instant ask
once. Typing is sent at most every ``TYPING_EVERY_SECONDS`` per conversation, as the
platform allows: a Redis key set with ``NX`` and that expiry decides, across processes."""

from __future__ import annotations

import logging

from django.utils import timezone

from conversations import channels, passes
from conversations.models import Conversation, Direction, Message

logger = logging.getLogger(__name__)

READ_RECEIPT_TASK = "conversations.tasks.send_read_receipt"
TYPING_TASK = "conversations.tasks.send_typing"
# The Cloud API shows a typing indicator for up to 25 seconds, or until the next message.
TYPING_EVERY_SECONDS = 20


def _typing_key(conversation_id: int) -> str:
    return f"cxgear:typing:{conversation_id}"


def _last_inbound(conversation_id: int) -> Message | None:
    return (
        Message.objects.filter(
            conversation_id=conversation_id, direction=Direction.IN, wamid__isnull=False
        )
        .select_related("channel")
        .order_by("-sent_at", "-id")
        .first()
    )


def read_receipt_owed(*, conversation_id: int) -> bool:
    """In the caller's transaction (the agent reading the thread): claim the read receipt
    of the customer's last message and have it sent once that commits. False when it was
    claimed before (or there is no message to mark)."""
    last = _last_inbound(conversation_id)
    if last is None:
        return False
    claimed = Message.objects.filter(pk=last.pk, read_receipt_at__isnull=True).update(
        read_receipt_at=timezone.now()
    )
    if claimed:
        passes.send_after_commit(READ_RECEIPT_TASK, last.pk)
    return bool(claimed)


def read_receipt_send(*, message_id: int) -> None:
    """Tell the platform the customer's message was read. Raises the transport's
    ``TransientSendError`` for the task to retry."""
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None or not message.wamid:
        return
    transport = channels.transport_for(kind=message.channel.kind)
    transport.mark_read(channel=message.channel, wamid=message.wamid, typing=False)


def conversation_typing(*, conversation: Conversation) -> bool:
    """The agent is typing in the conversation: have the indicator sent unless it was in
    the last ``TYPING_EVERY_SECONDS``. Returns whether a send was asked for. Best effort:
    with Redis unreachable nothing is sent."""
    if not passes.first_within(_typing_key(conversation.pk), seconds=TYPING_EVERY_SECONDS):
        return False
    passes.send_after_commit(TYPING_TASK, conversation.pk)
    return True


def typing_send(*, conversation_id: int) -> None:
    """Show the customer that the agent is typing. The indicator rides on the read call
    for their last message (which it also marks read), so a chat they never wrote in
    shows none."""
    last = _last_inbound(conversation_id)
    if last is None or not last.wamid:
        return
    transport = channels.transport_for(kind=last.channel.kind)
    transport.mark_read(channel=last.channel, wamid=last.wamid, typing=True)
