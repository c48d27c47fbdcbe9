"""What the dock shows: its snapshot on connect, a thread with its context, and the
colleagues a chat can be handed to. Reads only; the consumer calls these from a thread."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, Subquery, Value
from django.db.models.functions import Coalesce

from conversations import realtime, search, selectors, templates
from conversations.events import conversation_payload, message_payload, presence_payload
from conversations.language import organization_languages
from conversations.models import (
    Channel,
    Conversation,
    ConversationEvent,
    Direction,
    EventKind,
    Membership,
    Message,
    Role,
    Rule,
)
from presence.models import AgentPresence, BusyReason, PresenceStatus
from routing import router

# No frame the dock's socket sends is longer than this, as the consumer encodes it (JSON
# with every non-ASCII character escaped: one byte a character). Far below daphne's 1 MB
# frame, and one message at the text limit (4,096 characters, 12 bytes each at worst)
# fits several times over, so a thread or a replay is sent a page at a time.
FRAME_BYTES = 256 * 1024
# At most this many messages and notes in one page of a thread.
THREAD_ITEMS = 200
# A reconnecting dock missing more events than this takes the snapshot it opened with:
# replaying them would cost more than the snapshot did.
RESYNC_EVENTS = 1000
# The chat list shows one line of the last message; the thread has the whole of it.
PREVIEW_CHARACTERS = 200
EARLIER_CONVERSATIONS = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The kinds of audit entries the thread shows between messages as system notes.
NOTE_KINDS = (
    EventKind.ASSIGNED,
    EventKind.TRANSFERRED,
    EventKind.REASSIGNED,
    EventKind.QUEUED,
    EventKind.OFFERED,
    EventKind.DECLINED,
    EventKind.OFFER_EXPIRED,
)
# Of the other changes, those the thread shows: routing's own, each with its note.
NOTE_UPDATES = (Rule.LANGUAGE_DETECTED, Rule.OFFER_DECLINED, Rule.OFFER_TIMED_OUT)


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
        "text": message.text[:PREVIEW_CHARACTERS],
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
    """A conversation as the dock's list shows it: the event payload plus its last message
    and its project's first-reply target (the countdown turns amber at a share of it)."""
    # Notes are the team's: the list shows what the customer and the agent said.
    last = (
        conversation.messages.exclude(direction=Direction.NOTE).order_by("-sent_at", "-id").first()
    )
    return {
        **conversation_payload(conversation),
        "last_message": message_preview(last),
        "waiting_since": _iso(
            waiting_since(conversation) if last and last.direction == Direction.IN else None
        ),
        "sla_target_seconds": conversation.project.sla_first_reply_seconds,
    }


def waiting_since(conversation: Conversation) -> datetime | None:
    """When the customer's first message after our last reply was sent: how long they have
    waited for an answer, which orders the dock's list (longest first)."""
    last_reply = (
        conversation.messages.filter(direction=Direction.OUT)
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )
    return (
        conversation.messages.filter(
            direction=Direction.IN, sent_at__gt=Coalesce(Subquery(last_reply), Value(EPOCH))
        )
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )


def organization_languages_sorted(*, member: Membership) -> list[str]:
    """The languages a chat may be set to in the dock: those the organization's agents
    speak."""
    return sorted(organization_languages(organization_id=member.organization_id))


def dock_snapshot(*, member: Membership) -> dict[str, Any]:
    """The dock's state on connect, with the ``seq`` it reflects.

    The seq is read before the state: an event committed in between is both in the state
    and replayed, and applying a conversation or message payload twice changes nothing."""
    seq = realtime.last_seq(membership_id=member.pk)
    conversations = list(selectors.open_conversations_of(member=member).order_by("assigned_at"))
    offered = list(selectors.offers_to(member=member))
    presence = (
        AgentPresence.objects.select_related("reason", "actor__user")
        .filter(membership_id=member.pk)
        .first()
    )
    return {
        "seq": seq,
        "data": {
            "me": me_payload(member, open_count=len(conversations) + len(offered)),
            "presence": presence_payload(member_id=member.pk, presence=presence),
            "conversations": [dock_conversation(c) for c in conversations],
            "offers": [dock_conversation(c) for c in offered],
            "languages": organization_languages_sorted(member=member),
            "heartbeat_seconds": heartbeat_seconds(),
            "service_window_hours": 24,
            "busy_reasons": busy_reasons(member=member),
            "offline_reassign_seconds": settings.ROUTING_OFFLINE_REASSIGN_SECONDS,
        },
    }


def dock_templates(*, channel: Channel) -> list[dict[str, Any]]:
    """The approved templates of a number, as the composer offers them: each with its
    body's text and placeholders, to fill in and preview."""
    return [
        {
            "name": t.name,
            "language": t.language,
            "category": t.category,
            "body": templates.body_text(t.components),
            "placeholders": templates.placeholders(t.components),
        }
        for t in templates.channel_templates(channel=channel)
    ]


def busy_reasons(*, member: Membership) -> list[dict[str, Any]]:
    """The reasons the member may give for Busy: their organization's active ones."""
    return [
        {"id": pk, "name": name}
        for pk, name in BusyReason.objects.filter(
            organization_id=member.organization_id, active=True
        ).values_list("pk", "name")
    ]


def note_payload(event: ConversationEvent) -> dict[str, Any]:
    def name(member: Membership | None) -> str | None:
        return member.user.display_name if member else None

    data = event.data if isinstance(event.data, dict) else {}

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
        # A transfer that waits for a colleague with no room, or lands over their capacity.
        "waiting_for": data.get("waiting_for_name"),
        "over_capacity": bool(data.get("over_capacity")),
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


def encoded_size(value: Any) -> int:
    """The length of ``value`` as the consumer sends it (``json.dumps``, ASCII only)."""
    return len(json.dumps(value))


def frame_room(frame: dict[str, Any]) -> int:
    """What is left of ``FRAME_BYTES`` for the data a frame still has to carry."""
    return FRAME_BYTES - encoded_size(frame)


def pages_by_size(items: Iterable[Any], *, room: int) -> list[list[Any]]:
    """``items`` in order, cut into runs whose JSON list fits in ``room`` bytes. A page
    always takes at least one item, so one item larger than the room still gets sent."""
    pages: list[list[Any]] = [[]]
    left = room
    for item in items:
        size = encoded_size(item) + 2  # its ", " (or the brackets of a list of one)
        if pages[-1] and size > left:
            pages.append([])
            left = room
        pages[-1].append(item)
        left -= size
    return pages


# A note comes before a message of the same instant.
NOTE, MESSAGE = 0, 1
LONGEST_CURSOR = "m:" + "9" * 18


@dataclass(frozen=True)
class _Entry:
    """A message or system note at its place in the thread: by time, a note before a
    message of the same instant, then by id."""

    at: datetime
    rank: int
    id: int
    payload: Mapping[str, Any]

    @property
    def cursor(self) -> str:
        return f"{'n' if self.rank == NOTE else 'm'}:{self.id}"

    @property
    def key(self) -> tuple[datetime, int, int]:
        return (self.at, self.rank, self.id)


class BadCursor(ValueError):
    """A ``before`` that is not a place in this thread."""


def _position(conversation: Conversation, before: str) -> tuple[datetime, int, int]:
    """The thread's order key of the entry a ``before`` cursor names."""
    kind, _, raw = before.partition(":")
    if kind not in ("m", "n") or not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise BadCursor("before must be a cursor thread.load gave")
    if kind == "m":
        at = conversation.messages.filter(pk=int(raw)).values_list("sent_at", flat=True).first()
    else:
        at = (
            ConversationEvent.objects.filter(conversation=conversation, pk=int(raw))
            .values_list("created_at", flat=True)
            .first()
        )
    if at is None:
        raise BadCursor("before names nothing in this conversation")
    return at, MESSAGE if kind == "m" else NOTE, int(raw)


def _older(field: str, rank: int, position: tuple[datetime, int, int]) -> Q:
    """Entries of one kind (``rank``) that come before ``position`` in the thread."""
    at, at_rank, at_id = position
    earlier = Q(**{f"{field}__lt": at})
    if rank < at_rank:
        return earlier | Q(**{field: at})
    if rank == at_rank:
        return earlier | Q(**{field: at, "id__lt": at_id})
    return earlier


def _thread_page(conversation: Conversation, *, before: str | None, room: int) -> dict[str, Any]:
    """The newest messages and notes before ``before`` (the newest of all without it)
    whose JSON fits in ``room`` bytes, oldest first, and the cursor of the page's oldest
    entry when there are older ones."""
    messages = selectors.conversation_messages(conversation=conversation).select_related(None)
    notes = ConversationEvent.objects.filter(
        Q(kind__in=NOTE_KINDS) | Q(kind=EventKind.UPDATED, rule__in=NOTE_UPDATES),
        conversation=conversation,
    ).select_related("actor__user", "from_agent__user", "to_agent__user")
    if before is not None:
        position = _position(conversation, before)
        messages = messages.filter(_older("sent_at", MESSAGE, position))
        notes = notes.filter(_older("created_at", NOTE, position))
    # Each kind alone may fill a page: THREAD_ITEMS + 1 of each tells whether more are left.
    newest = [
        _Entry(m.sent_at, MESSAGE, m.pk, message_payload(m))
        for m in messages.order_by("-sent_at", "-id")[: THREAD_ITEMS + 1]
    ] + [
        _Entry(e.created_at, NOTE, e.pk, note_payload(e))
        for e in notes.order_by("-created_at", "-id")[: THREAD_ITEMS + 1]
    ]
    newest.sort(key=lambda entry: entry.key, reverse=True)
    # The cursor's room is kept whether or not the page ends up needing it.
    room -= encoded_size({"messages": [], "notes": [], "has_more": False, "before": LONGEST_CURSOR})
    page: list[_Entry] = []
    for entry in newest[:THREAD_ITEMS]:
        size = encoded_size(entry.payload) + 2
        if page and size > room:
            break
        page.append(entry)
        room -= size
    page.reverse()
    has_more = len(page) < len(newest)
    return {
        "messages": [e.payload for e in page if e.rank == MESSAGE],
        "notes": [e.payload for e in page if e.rank == NOTE],
        "has_more": has_more,
        "before": page[0].cursor if has_more else None,
    }


def dock_thread(
    *,
    member: Membership,
    conversation_id: int,
    before: str | None = None,
    room: int = FRAME_BYTES,
    transcript: bool = False,
) -> dict[str, Any]:
    """A page of a conversation the member may see: its newest messages and system notes
    that fit in ``room`` bytes of JSON, and ``has_more`` with the ``before`` cursor to ask
    for the page older than it. The first page (no ``before``) carries the conversation
    and its context too. A customer decides how long their messages are: paging by size
    keeps any thread within one frame of the dock's socket.

    Raises ``Conversation.DoesNotExist`` for one they may not see, ``BadCursor`` for a
    ``before`` that is not a place in this thread. A ``transcript`` is read-only history:
    an earlier conversation of a customer the member works with is readable too
    (``selectors.readable_conversations``)."""
    scope = (
        selectors.readable_conversations(member=member)
        if transcript
        else selectors.visible_conversations(member=member)
    )
    conversation = scope.get(pk=conversation_id)
    head: dict[str, Any] = {}
    if before is None:
        head = {
            "conversation": dock_conversation(conversation),
            "context": thread_context(member=member, conversation=conversation),
        }
    page = _thread_page(conversation, before=before, room=room - encoded_size(head))
    return {**head, **page}


def resync_frames(
    *, request_id: Any, after: int, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The answer to a ``resync``: the events in ``seq`` order, in as many frames as
    keep each within ``FRAME_BYTES``; every frame but the last says ``more``."""
    base = {"type": "resync", "id": request_id, "after": after, "events": [], "more": True}
    pages = pages_by_size(events, room=frame_room(base))
    return [{**base, "events": page, "more": n < len(pages) - 1} for n, page in enumerate(pages)]


def transfer_candidates(
    *, member: Membership, conversation: Conversation | None = None
) -> list[dict[str, Any]]:
    """Colleagues who work chats and are Available or Busy, with their load; for a given
    conversation, only those who work its project and could take it (language, skills).
    ``lands`` says what a transfer by ``member`` to each does: ``now`` (they have room),
    ``waits`` (an agent's transfer to a full or Busy colleague waits for them) or
    ``over`` (a supervisor's lands over their capacity). Those with room come first."""
    members = (
        selectors.member_members(member=member)
        .filter(
            role__in=[Role.AGENT, Role.SUPERVISOR],
            presence__status__in=[PresenceStatus.AVAILABLE, PresenceStatus.BUSY],
            user__is_active=True,
        )
        .exclude(pk=member.pk)
    )
    if conversation is not None:
        members = members.filter(projects=conversation.project_id)
    candidates = []
    for m in members:
        if conversation is not None and router.ineligibility(m, conversation):
            continue
        status = m.presence.status
        room = status == PresenceStatus.AVAILABLE and m.open_conversations < m.max_open
        candidates.append(
            {
                "id": m.pk,
                "name": m.user.display_name,
                "presence": status,
                "presence_reason": m.presence.reason_name,
                "open_count": m.open_conversations,
                "max_open": m.max_open,
                "room": room,
                "lands": "now" if room else ("over" if member.supervises else "waits"),
                "skills": m.skills,
                "languages": m.languages,
            }
        )
    candidates.sort(
        key=lambda c: (
            not c["room"],
            c["open_count"] / c["max_open"] if c["max_open"] else 1.0,
            c["name"].lower(),
        )
    )
    return candidates


def known_skills(*, member: Membership) -> list[str]:
    """Skills a chat sent back to the queue can ask for: those someone in the team has."""
    skills: set[str] = set()
    for values in selectors.member_members(member=member).values_list("skills", flat=True):
        skills.update(values or [])
    return sorted(skills)


SEARCH_RESULTS = 20


def dock_search(*, member: Membership, text: str) -> list[dict[str, Any]]:
    """The member's conversations, open and closed, that match ``text``
    (``conversations.search``), the latest first, each with the latest message that
    matched when one did. Agents find their own, supervisors their organization's."""
    found = list(
        search.conversations_matching(selectors.visible_conversations(member=member), text)[
            :SEARCH_RESULTS
        ]
    )
    excerpts = search.matching_excerpts([c.pk for c in found], text)
    return [
        {**conversation_payload(c), "match": message_preview(excerpts.get(c.pk))} for c in found
    ]


def quick_replies(*, member: Membership) -> list[dict[str, Any]]:
    """Every quick reply of the organization; the dock offers a chat those of its project
    and those for every project."""
    return [
        {"id": q.pk, "shortcut": q.shortcut, "text": q.text, "project": q.project_id}
        for q in selectors.member_quick_replies(member=member)
    ]
