"""The catalogue of realtime events: every type the server publishes, the shape of its
``data``, and the functions that build that data.

Every event leaves through ``realtime.publish`` as ``{"type", "seq", "data"}``; the dock
and the supervision board render exactly these shapes, the API's serializers name the
same fields, and the event webhooks are to carry the same types. ``docs/events.md`` says
when each type is sent and to whom; ``tests/test_events.py`` holds the two together, so
a new type or field is written down where integrators read it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol, TypedDict

from conversations.models import Conversation, Message


class EventType(StrEnum):
    CONVERSATION_OFFERED = "conversation.offered"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_TRANSFERRED = "conversation.transferred"
    CONVERSATION_UPDATED = "conversation.updated"
    CONVERSATION_CLOSED = "conversation.closed"
    MESSAGE_CREATED = "message.created"
    MESSAGE_STATUS = "message.status"
    PRESENCE_CHANGED = "presence.changed"
    SLA_BREACHED = "sla.breached"


class ContactData(TypedDict):
    id: int
    wa_id: str | None
    user_id: str | None
    name: str
    language: str


class ConversationData(TypedDict):
    id: int
    status: str
    agent: int | None
    agent_name: str | None
    project: int
    project_name: str
    channel: int
    contact: ContactData
    language: str
    language_source: str
    required_skills: list[str]
    priority: int
    offered_to: int | None
    offer_expires_at: str | None
    created_at: str | None
    queued_at: str | None
    assigned_at: str | None
    closed_at: str | None
    outcome: str
    unread_count: int
    last_inbound_at: str | None
    last_message_at: str | None
    sla_due_at: str | None
    first_reply_at: str | None
    sla_breached_at: str | None


class MessageData(TypedDict):
    id: int
    conversation: int
    direction: str
    type: str
    text: str
    media: dict[str, Any]
    status: str
    wamid: str | None
    context_wamid: str
    error: dict[str, Any]
    sender: int | None
    sent_at: str | None
    created_at: str | None


# The presence statuses (``presence.models.PresenceStatus``, which the catalogue's test
# holds to these), written here so the core needs nothing of the presence app.
PresenceStatusValue = Literal["available", "busy", "offline"]
OFFLINE: PresenceStatusValue = "offline"


class PresenceData(TypedDict):
    member: int
    status: PresenceStatusValue
    since: str | None
    source: str | None


class BreachData(TypedDict):
    """A missed first-reply target (``conversations.sla``): the conversation as it is
    now, and the two moments a report compares."""

    conversation: ConversationData
    due_at: str
    breached_at: str


EventData = ConversationData | MessageData | PresenceData | BreachData

# The shape of each type's ``data``.
DATA_SHAPES: dict[EventType, type] = {
    EventType.CONVERSATION_OFFERED: ConversationData,
    EventType.CONVERSATION_ASSIGNED: ConversationData,
    EventType.CONVERSATION_TRANSFERRED: ConversationData,
    EventType.CONVERSATION_UPDATED: ConversationData,
    EventType.CONVERSATION_CLOSED: ConversationData,
    EventType.MESSAGE_CREATED: MessageData,
    EventType.MESSAGE_STATUS: MessageData,
    EventType.PRESENCE_CHANGED: PresenceData,
    EventType.SLA_BREACHED: BreachData,
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_payload(conversation: Conversation) -> ContactData:
    contact = conversation.contact
    return {
        "id": contact.pk,
        "wa_id": contact.wa_id,
        "user_id": contact.user_id,
        "name": contact.name,
        "language": contact.language,
    }


def conversation_payload(conversation: Conversation) -> ConversationData:
    agent = conversation.agent
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "agent": conversation.agent_id,
        "agent_name": agent.user.display_name if agent else None,
        "project": conversation.project_id,
        "project_name": conversation.project.name,
        "channel": conversation.channel_id,
        "contact": contact_payload(conversation),
        "language": conversation.language,
        "language_source": conversation.language_source,
        "required_skills": conversation.required_skills,
        "priority": conversation.priority,
        "offered_to": conversation.offered_to_id,
        "offer_expires_at": _iso(conversation.offer_expires_at),
        "created_at": _iso(conversation.created_at),
        "queued_at": _iso(conversation.queued_at),
        "assigned_at": _iso(conversation.assigned_at),
        "closed_at": _iso(conversation.closed_at),
        "outcome": conversation.outcome,
        "unread_count": conversation.unread_count,
        "last_inbound_at": _iso(conversation.last_inbound_at),
        "last_message_at": _iso(conversation.last_message_at),
        "sla_due_at": _iso(conversation.sla_due_at),
        "first_reply_at": _iso(conversation.first_reply_at),
        "sla_breached_at": _iso(conversation.sla_breached_at),
    }


def breach_payload(conversation: Conversation) -> BreachData:
    """A breach as recorded: only a conversation with both moments set has one."""
    due, breached = conversation.sla_due_at, conversation.sla_breached_at
    if due is None or breached is None:
        raise ValueError(f"conversation {conversation.pk} has no recorded breach")
    return {
        "conversation": conversation_payload(conversation),
        "due_at": due.isoformat(),
        "breached_at": breached.isoformat(),
    }


def message_payload(message: Message) -> MessageData:
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "direction": message.direction,
        "type": message.type,
        "text": message.text,
        "media": message.media,
        "status": message.status,
        "wamid": message.wamid,
        "context_wamid": message.context_wamid,
        "error": message.error,
        "sender": message.sender_id,
        "sent_at": _iso(message.sent_at),
        "created_at": _iso(message.created_at),
    }


class PresenceRecord(Protocol):
    """What ``presence_payload`` reads of a member's presence row."""

    @property
    def status(self) -> str: ...

    @property
    def since(self) -> datetime: ...

    @property
    def source(self) -> str: ...


def presence_payload(*, member_id: int, presence: PresenceRecord | None) -> PresenceData:
    """A member's presence; with no row (never set) they are Offline since no time."""
    if presence is None:
        return {"member": member_id, "status": OFFLINE, "since": None, "source": None}
    status: PresenceStatusValue = presence.status  # type: ignore[assignment]
    return {
        "member": member_id,
        "status": status,
        "since": _iso(presence.since),
        "source": presence.source,
    }
