"""Messages in and out of a conversation (WhatsApp issue). Signatures are fixed."""

from __future__ import annotations

from conversations.models import Conversation, Membership, Message


class OutsideServiceWindow(Exception):
    """WhatsApp accepts free-form text only within 24 hours of the customer's last message."""


def message_send_text(*, conversation: Conversation, sender: Membership, text: str) -> Message:
    """Store an outbound text as queued and send it through the channel after commit."""
    raise NotImplementedError


def conversation_mark_read(*, conversation: Conversation, member: Membership) -> None:
    """The agent has seen the thread: its unread count goes to zero."""
    raise NotImplementedError
