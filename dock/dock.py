"""What the dock shows: its snapshot on connect, a thread with its context, and the
colleagues a chat can be handed to. Reads only; the consumer calls these from a thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import F

from conversations import realtime, selectors
from conversations.events import conversation_payload, message_payload, presence_payload
from conversations.models import (
    Conversation,
    ConversationEvent,
    EventKind,
    Membership,
    Message,
    Role,
)
from presence.models import AgentPresence, PresenceStatus
from routing import router

THREAD_MESSAGES = 200
EARLIER_CONVERSATIONS = 10
# The kinds of audit entries the thread shows between messages as system notes.
NOTE_KINDS = (EventKind.ASSIGNED, EventKind.TRANSFERRED, EventKind.REASSIGNED, EventKind.QUEUED)


def heartbeat_seconds() -> int:
    return int(getattr(settings, "PRESENCE_HEARTBEAT_SECONDS", 20))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def message_preview(message: Message | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {
        "id": message.pk,
        "direction": message.direction,
        "type": message.type,
        "text": message.text,
        "status": message.status,
        "sent_at": _iso(message.sent_at),
    }


def me_payload(member: Membership, *, open_count: int) -> dict[str, Any]:
    return {
        "id": member.pk,
        "name": member.user.display_name,
        "email": member.user.email,
        "role": member.role,
        "max_open": member.max_open,
        "open_count": open_count,
        "skills": member.skills,
        "languages": member.languages,
    }


def dock_conversation(conversation: Conversation) -> dict[str, Any]:
    """A conversation as the dock's list shows it: the event payload plus its last message."""
    last = conversation.messages.order_by("-sent_at", "-id").first()
    return {**conversation_payload(conversation), "last_message": message_preview(last)}


def dock_snapshot(*, member: Membership) -> dict[str, Any]:
    """The dock's state on connect, with the ``seq`` it reflects.

    The seq is read before the state: an event committed in between is both in the state
    and replayed, and applying a conversation or message payload twice changes nothing."""
    seq = realtime.last_seq(membership_id=member.pk)
    conversations = list(selectors.open_conversations_of(member=member).order_by("assigned_at"))
    presence = AgentPresence.objects.filter(membership_id=member.pk).first()
    return {
        "seq": seq,
        "data": {
            "me": me_payload(member, open_count=len(conversations)),
            "presence": presence_payload(member_id=member.pk, presence=presence),
            "conversations": [dock_conversation(c) for c in conversations],
            "heartbeat_seconds": heartbeat_seconds(),
            "service_window_hours": 24,
        },
    }


def note_payload(event: ConversationEvent) -> dict[str, Any]:
    def name(member: Membership | None) -> str | None:
        return member.user.display_name if member else None

    return {
        "id": event.pk,
        "kind": event.kind,
        "rule": event.rule,
        "rule_label": event.get_rule_display() if event.rule else "",
        "actor": name(event.actor),
        "from_agent": name(event.from_agent),
        "to_agent": name(event.to_agent),
        "note": event.note,
        "created_at": _iso(event.created_at),
    }


def thread_context(*, member: Membership, conversation: Conversation) -> dict[str, Any]:
    """What the agent needs beside the thread: who the customer is and has been, and the
    campaign and channel they wrote to. Earlier conversations of a customer whose chat the
    member may see belong to that chat's context, whoever worked them."""
    contact = conversation.contact
    earlier = (
        Conversation.objects.filter(organization_id=member.organization_id, contact_id=contact.pk)
        .exclude(pk=conversation.pk)
        .select_related("project", "agent__user")
        .order_by("-created_at")[:EARLIER_CONVERSATIONS]
    )
    channel = conversation.channel
    return {
        "contact": {
            "id": contact.pk,
            "name": contact.name,
            "wa_id": contact.wa_id,
            "user_id": contact.user_id,
            "language": contact.language or conversation.language,
            "attributes": contact.attributes,
        },
        "earlier": [
            {
                "id": c.pk,
                "status": c.status,
                "outcome": c.outcome,
                "project_name": c.project.name,
                "agent_name": c.agent.user.display_name if c.agent else None,
                "created_at": _iso(c.created_at),
                "closed_at": _iso(c.closed_at),
            }
            for c in earlier
        ],
        "project": {
            "id": conversation.project_id,
            "name": conversation.project.name,
            "metadata": conversation.project.metadata,
        },
        "channel": {
            "id": channel.pk,
            "kind": channel.kind,
            "kind_label": channel.get_kind_display(),
            "display_phone_number": channel.display_phone_number,
            "default_language": channel.default_language,
        },
    }


def dock_thread(*, member: Membership, conversation_id: int) -> dict[str, Any]:
    """A conversation the member may see, its latest messages, system notes and context.

    Raises ``Conversation.DoesNotExist`` for one they may not see."""
    conversation = selectors.visible_conversations(member=member).get(pk=conversation_id)
    recent = list(
        selectors.conversation_messages(conversation=conversation)
        .order_by("-sent_at", "-id")[:THREAD_MESSAGES]
        .select_related(None)
    )
    recent.reverse()
    notes = (
        ConversationEvent.objects.filter(conversation=conversation, kind__in=NOTE_KINDS)
        .select_related("actor__user", "from_agent__user", "to_agent__user")
        .order_by("created_at", "id")
    )
    return {
        "conversation": dock_conversation(conversation),
        "messages": [message_payload(m) for m in recent],
        "notes": [note_payload(e) for e in notes],
        "context": thread_context(member=member, conversation=conversation),
    }


def transfer_candidates(
    *, member: Membership, conversation: Conversation | None = None
) -> list[dict[str, Any]]:
    """Colleagues who work chats, are Available and have room for one more; for a given
    conversation, only those routing would let take it (project, language, skills)."""
    members = (
        selectors.member_members(member=member)
        .filter(
            role__in=[Role.AGENT, Role.SUPERVISOR],
            presence__status=PresenceStatus.AVAILABLE,
            user__is_active=True,
        )
        .exclude(pk=member.pk)
        .filter(open_conversations__lt=F("max_open"))
        .order_by("user__name", "user__email")
    )
    return [
        {
            "id": m.pk,
            "name": m.user.display_name,
            "open_count": m.open_conversations,
            "max_open": m.max_open,
            "skills": m.skills,
            "languages": m.languages,
        }
        for m in members
        if conversation is None or not router.ineligibility(m, conversation)
    ]


def known_skills(*, member: Membership) -> list[str]:
    """Skills a chat sent back to the queue can ask for: those someone in the team has."""
    skills: set[str] = set()
    for values in selectors.member_members(member=member).values_list("skills", flat=True):
        skills.update(values or [])
    return sorted(skills)
