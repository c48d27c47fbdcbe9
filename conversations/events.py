"""The shapes in which conversations, messages and presence leave the server in realtime
events. The dock renders exactly these; the API's serializers name the same fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conversations.models import Conversation, Message


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def contact_payload(conversation: Conversation) -> dict[str, Any]:
    contact = conversation.contact
    return {
        "id": contact.pk,
        "wa_id": contact.wa_id,
        "user_id": contact.user_id,
        "name": contact.name,
        "language": contact.language,
    }


def conversation_payload(conversation: Conversation) -> dict[str, Any]:
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
        "required_skills": conversation.required_skills,
        "priority": conversation.priority,
        "created_at": _iso(conversation.created_at),
        "queued_at": _iso(conversation.queued_at),
        "assigned_at": _iso(conversation.assigned_at),
        "closed_at": _iso(conversation.closed_at),
        "outcome": conversation.outcome,
        "unread_count": conversation.unread_count,
        "last_inbound_at": _iso(conversation.last_inbound_at),
        "last_message_at": _iso(conversation.last_message_at),
    }


def message_payload(message: Message) -> dict[str, Any]:
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
