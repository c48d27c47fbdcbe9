"""Inbound assignment: which agent takes a queued conversation, and when.

Every decision is one short transaction that locks the conversation it decides on
(``skip_locked``: another worker deciding on it already is left alone) and then the
agent it gives it to, and reads that agent's open chats (``Membership.open_conversations``,
which every write that moves a chat keeps, see ``count_moved``) inside the lock. Capacity
is never read in one transaction and written in another. The written policy is
``docs/concurrency.md``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone

from conversations import realtime
from conversations.activity import activity_on_commit
from conversations.events import EventType, conversation_payload
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    LanguageSource,
    Membership,
    Rule,
)
from conversations.passes import running
from presence.models import PresenceStatus
from presence.services import presence_expire_stale
from routing import queries
from routing.queries import WAITING_REASON, wants
from routing.triggers import ROUTING_PASS, expire_offer_at, request_routing

logger = logging.getLogger(__name__)

# How often one chat's decision is retried in a pass when the chosen agent filled up
# between the choice and the lock (another worker got there first), or an earlier chat
# had to be decided first; after that the pass moves on and the sweep comes back.
MAX_RETRIES = 20


class Outcome(enum.Enum):
    ASSIGNED = "assigned"
    WAITING = "waiting"  # nobody eligible has room
    STICKY_WAIT = "sticky-wait"  # held for the customer's last agent
    RETRY = "retry"  # the chosen agent filled up meanwhile
    BEHIND = "behind"  # an earlier queued chat could take the chosen agent's place


@dataclass(frozen=True)
class Cursor:
    """A position in queue order (priority desc, queued_at, id)."""

    priority: int
    queued_at: datetime
    pk: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Cursor:
        return cls(row["priority"], row["queued_at"], row["pk"])

    def after(self) -> Q:
        return (
            Q(priority__lt=self.priority)
            | Q(priority=self.priority, queued_at__gt=self.queued_at)
            | Q(priority=self.priority, queued_at=self.queued_at, pk__gt=self.pk)
        )


def speaks_and_knows(member: Membership, conversation: Conversation) -> bool:
    """The language and skill rules of ``queries.eligible_for``, for a member in hand."""
    language, skills = wants(conversation)
    if language and language not in (member.languages or []):
        return False
    return set(skills) <= set(member.skills or [])


def ineligibility(member: Membership, conversation: Conversation) -> list[str]:
    """Why ``member`` may not take ``conversation`` whatever their load (empty: they may)."""
    problems = []
    if not member.projects.filter(pk=conversation.project_id).exists():
        problems.append("not in the conversation's project")
    language, skills = wants(conversation)
    if language and language not in (member.languages or []):
        problems.append(f"does not speak {language}")
    missing = sorted(set(skills) - set(member.skills or []))
    if missing:
        problems.append(f"lacks {', '.join(missing)}")
    return problems


def _full(candidate: Membership) -> bool:
    """As read before the member's lock (a hint: the read under the lock decides)."""
    return candidate.open_conversations >= candidate.max_open


def lock_member(member_id: int) -> Membership:
    """Lock a member's row: every path that adds a chat to a member holds this lock while
    it reads their open chats and writes, so two of them never both take the member's
    last place. The member comes with their presence and user."""
    return queries.locked_member(member_id)


def open_with(conversation: Conversation) -> int | None:
    """The member whose open chats ``conversation`` is one of (None: nobody's). A chat
    offered to an agent holds a place in their room until they accept or decline it."""
    if conversation.status == ConversationStatus.ASSIGNED:
        return conversation.agent_id
    if conversation.status == ConversationStatus.OFFERED:
        return conversation.offered_to_id
    return None


def count_moved(
    conversation: Conversation, was: int | None, *, last_assigned_at: datetime | None = None
) -> None:
    """Keep ``Membership.open_conversations`` after a write of ``conversation``'s status or
    agent: the one rule every such write follows. ``was`` is ``open_with`` before the
    write. The member it left loses one, the member it is open with now gains one (and
    gets ``last_assigned_at`` written by the same UPDATE). The caller holds the
    conversation's lock; the member rows are written in id order, after it and before any
    stream."""
    now = open_with(conversation)
    moves: dict[int, int] = {}
    if was is not None and was != now:
        moves[was] = -1
    if now is not None:
        moves[now] = 0 if was == now else 1
    for member_id in sorted(moves):
        stamped = member_id == now and last_assigned_at is not None
        if not (moves[member_id] or stamped):
            continue
        counted: dict[str, Any] = {"open_conversations": F("open_conversations") + moves[member_id]}
        if stamped:
            counted["last_assigned_at"] = last_assigned_at
        Membership.objects.filter(pk=member_id).update(**counted)


def room_count(member: Membership) -> int | None:
    """Under the member's lock: their open chats, as a fresh read after the lock found
    them, if they are Available and below their max_open, else None."""
    presence = getattr(member, "presence", None)
    if presence is None or presence.status != PresenceStatus.AVAILABLE:
        return None
    count = member.open_conversations
    return count if count < member.max_open else None


def _sticky_agent(conversation: Conversation) -> Membership | None:
    """The customer's last agent (found by the statement that locked the chat), if they
    still work chats of this project, with their presence and open chats."""
    agent_id = conversation.last_agent_id  # type: ignore[attr-defined]
    if agent_id is None:
        return None
    try:
        return queries.working_on(conversation).select_related("user", "presence").get(pk=agent_id)
    except Membership.DoesNotExist:
        return None


def mark_waiting(*, organization_id: int, queued_before: datetime, held: Iterable[int] = ()) -> int:
    """Note, once per stay in the queue, that a chat is waiting because nobody eligible
    had room: supervisors see why, and its later assignment is a "drain". Chats that
    came after the pass started, or wait for their last agent, are left alone, and so
    are those another transaction is deciding on now (``skip_locked``): the lock keeps a
    note from landing on a chat assigned in the meantime. Returns how many were noted."""
    with transaction.atomic():
        waiting = list(
            Conversation.objects.queued()
            .filter(organization_id=organization_id, queued_at__lt=queued_before)
            .exclude(pk__in=sorted(set(held)))
            .exclude(queries.waiting_noted())
            .locked(skip_locked=True)
            .values_list("pk", flat=True)
        )
        now = timezone.now()
        notes = ConversationEvent.objects.bulk_create(
            ConversationEvent(
                conversation_id=conversation_id,
                kind=EventKind.QUEUED,
                note="Waiting: no eligible agent has room.",
                data={"reason": WAITING_REASON},
                created_at=now,
            )
            for conversation_id in waiting
        )
    return len(notes)


def assign(
    *,
    conversation: Conversation,
    agent: Membership,
    rule: str,
    kind: str = EventKind.ASSIGNED,
    actor: Membership | None = None,
    note: str = "",
    data: dict[str, object] | None = None,
) -> Conversation:
    """Write an assignment the caller has decided under the conversation's and the agent's
    locks, record it and publish it after commit."""
    now = timezone.now()
    previous_agent_id = write_move(
        conversation,
        changes={"status": ConversationStatus.ASSIGNED, "agent": agent, "assigned_at": now},
        kind=kind,
        rule=rule,
        actor=actor,
        note=note,
        data=data,
        at=now,
        last_assigned_at=now if kind == EventKind.ASSIGNED else None,
    )
    publish_conversation(
        EventType.CONVERSATION_ASSIGNED
        if kind == EventKind.ASSIGNED
        else EventType.CONVERSATION_TRANSFERRED,
        conversation,
        to=[agent.pk, previous_agent_id],
    )
    activity_on_commit(
        "chat %s %s to %s (%s)",
        conversation.pk,
        "assigned" if kind == EventKind.ASSIGNED else "transferred",
        member_name(agent),
        rule,
        conversation=conversation.pk,
        agent=agent.pk,
        rule=rule,
    )
    return conversation


def language_rule(conversation: Conversation) -> dict[str, object]:
    """Which rule gave the chat its language, for the routing decision's audit entry:
    detected (with the detector's confidence), the default, or set by a person."""
    rule: dict[str, object] = {
        "language": conversation.language,
        "rule": conversation.language_source,
    }
    if conversation.language_source == LanguageSource.DETECTED:
        rule["confidence"] = conversation.language_confidence
    return rule


def offer_to(
    *,
    conversation: Conversation,
    agent: Membership,
    rule: str,
    note: str = "",
    data: dict[str, object] | None = None,
) -> Conversation:
    """Offer a chat to an agent (a project with ``offer_timeout_seconds``) instead of
    assigning it: the routing decision is the same, under the same locks, and the offer
    holds a place in the agent's room (``open_with``) until they accept, decline or let it
    run out (``routing.offers``). The offer's end is a fact of the row
    (``offer_expires_at``); a task is asked to pass it on then, and the sweep catches a
    lost one."""
    now = timezone.now()
    expires = now + timedelta(seconds=conversation.project.offer_timeout_seconds)
    write_move(
        conversation,
        changes={
            "status": ConversationStatus.OFFERED,
            "offered_to": agent,
            "offer_expires_at": expires,
        },
        kind=EventKind.OFFERED,
        rule=rule,
        actor=None,
        note=note,
        data={**(data or {}), "expires_at": expires.isoformat()},
        at=now,
        last_assigned_at=now,
    )
    publish_conversation(EventType.CONVERSATION_OFFERED, conversation, to=[agent.pk])
    expire_offer_at(conversation_id=conversation.pk, at=expires)
    activity_on_commit(
        "chat %s offered to %s (%s)",
        conversation.pk,
        member_name(agent),
        rule,
        conversation=conversation.pk,
        agent=agent.pk,
        rule=rule,
    )
    return conversation


def member_name(member: Membership) -> str:
    """A member as a log line names them: their e-mail when it is at hand, else their id
    (a log line is worth no query)."""
    if Membership._meta.get_field("user").is_cached(member):  # type: ignore[union-attr]
        return str(member.user.email)
    return f"member {member.pk}"


def write_move(
    conversation: Conversation,
    *,
    changes: Mapping[str, Any],
    kind: str,
    rule: str,
    actor: Membership | None,
    note: str = "",
    data: dict[str, object] | None = None,
    at: datetime,
    last_assigned_at: datetime | None = None,
) -> int | None:
    """Write a move of a locked conversation (to an agent, back to the queue, closed):
    its ``changes`` of fields, the open-chat counters it moves (``count_moved``, with
    ``last_assigned_at``) and its audit event from the agent it had to the agent it is
    open with now. The one sequence every move follows. Returns the agent it had."""
    from_agent_id = open_with(conversation) or conversation.agent_id
    was = open_with(conversation)
    fields = list(changes)
    for name, value in changes.items():
        setattr(conversation, name, value)
    if conversation.status != ConversationStatus.OFFERED and conversation.offered_to_id:
        # A move out of an offer (accepted, declined, run out, or a supervisor's) ends it.
        conversation.offered_to = None
        conversation.offer_expires_at = None
        fields += ["offered_to", "offer_expires_at"]
    conversation.save(update_fields=fields)
    count_moved(conversation, was, last_assigned_at=last_assigned_at)
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=kind,
        rule=rule,
        actor=actor,
        from_agent_id=from_agent_id,
        to_agent_id=open_with(conversation),
        note=note,
        data=data or {},
        created_at=at,
    )
    return from_agent_id


def publish_conversation(
    event_type: EventType, conversation: Conversation, *, to: list[int | None]
) -> None:
    """Send a conversation event to the agents named and to every supervisor of the
    organization (their board is live on the same events)."""
    realtime.publish(
        event_type,
        conversation_payload(_with_payload_relations(conversation)),
        to=[m for m in to if m is not None],
        supervisors_of=conversation.organization_id,
    )


# What a conversation's payload names besides the row itself.
PAYLOAD_RELATIONS = ("contact", "project", "agent__user")


def _cached(instance: Model, path: str) -> bool:
    """Whether the relation ``path`` (``a__b``) of ``instance`` is loaded: reading it makes
    no query."""
    related: Model | None = instance
    for name in path.split("__"):
        if related is None:
            return True
        if not related._meta.get_field(name).is_cached(related):  # type: ignore[union-attr]
            return False
        related = getattr(related, name)
    return True


def _with_payload_relations(conversation: Conversation) -> Conversation:
    """``conversation`` as it is when it carries the relations its payload names (a
    routing decision reads them with its locks), else read again with them. The caller
    holds its row's lock, so the copy in hand is the row as it will commit."""
    if all(_cached(conversation, path) for path in PAYLOAD_RELATIONS):
        return conversation
    return Conversation.objects.select_related(*PAYLOAD_RELATIONS).get(pk=conversation.pk)


class Decision(NamedTuple):
    """What one decision did, and what it learned under its locks that the pass would
    otherwise ask the database again."""

    outcome: Outcome
    # BEHIND: the earlier queued chat to decide first.
    earlier: int | None = None
    # The agent this decision locked has no room now: it took their last place, or found
    # none left (RETRY). Otherwise the decision left room where it was: an agent who keeps
    # room after an assignment, or a BEHIND agent, proves that somebody still has some.
    filled: bool = False


def _give(
    conversation: Conversation, member: Membership, held: Collection[int], *, sticky: bool
) -> Decision:
    """Read again the member this transaction has locked and, if they still have room and no
    earlier chat could take it, assign: to the customer's last agent (``sticky``), or
    by load, a "drain" when the chat had waited for room."""
    # A fresh statement after the lock: presence and open chats as committed now (every
    # write of the counter holds the same row lock).
    locked, earlier = queries.under_lock(member, conversation, held)
    count = room_count(locked)
    if count is None:
        return Decision(Outcome.RETRY, filled=True)
    if earlier is not None:
        return Decision(Outcome.BEHIND, earlier)
    has_waited: bool = conversation.has_waited  # type: ignore[attr-defined]
    if sticky:
        rule, note = Rule.STICKY, "Back to the customer's last agent."
    else:
        rule, note = (Rule.DRAIN if has_waited else Rule.LEAST_LOADED), ""
    waited = (timezone.now() - conversation.queued_at).total_seconds()
    data = {
        "open": count,
        "max_open": locked.max_open,
        "waited_seconds": waited,
        "language": language_rule(conversation),
    }
    if conversation.project.offer_timeout_seconds:
        offer_to(conversation=conversation, agent=locked, rule=rule, note=note, data=data)
    else:
        assign(conversation=conversation, agent=locked, rule=rule, note=note, data=data)
    return Decision(Outcome.ASSIGNED, filled=count + 1 >= locked.max_open)


def _decide(conversation: Conversation, held: Collection[int]) -> Decision:
    """Decide on one locked queued conversation. Runs inside the caller's transaction and
    locks at most one member, so two deciding workers never wait on each other's."""
    waited = (timezone.now() - conversation.queued_at).total_seconds()
    sticky = _sticky_agent(conversation)
    passed_by = conversation.offer_passed_by_id
    if sticky is not None and sticky.pk == passed_by:
        sticky = None  # never offered to the same agent twice in a row
    if sticky is not None and speaks_and_knows(sticky, conversation):
        status = getattr(getattr(sticky, "presence", None), "status", PresenceStatus.OFFLINE)
        if status == PresenceStatus.AVAILABLE and not _full(sticky):
            lock_member(sticky.pk)
            return _give(conversation, sticky, held, sticky=True)
        if status != PresenceStatus.OFFLINE and waited < settings.ROUTING_STICKY_WAIT_SECONDS:
            return Decision(Outcome.STICKY_WAIT)

    candidates = queries.eligible_for(conversation).by_load()
    if passed_by is not None:
        candidates = candidates.exclude(pk=passed_by)
    # Prefer an agent with room that no other worker is deciding on, locked by the same
    # statement: parallel workers spread out.
    choice = candidates.with_room().locked(skip_locked=True).first()
    if choice is None:
        # No candidate with room is free: one that another worker holds may have room,
        # or nobody has any. The full ones sort last, so the first candidate says which.
        choice = candidates.first()
        if choice is None or _full(choice):
            return Decision(Outcome.WAITING)
        lock_member(choice.pk)
    return _give(conversation, choice, held, sticky=False)


# A kind of chat: project, language, skills, and the agent it is not to be offered to.
Signature = tuple[int, str, tuple[str, ...], int | None]


def _signature(row: Mapping[str, Any]) -> Signature:
    skills = row["required_skills"] or []
    return (
        row["project_id"],
        (row["language"] or "").lower(),
        tuple(sorted(skills)),
        row["offer_passed_by_id"],
    )


def route_one(*, conversation_id: int, held: set[int], wait: bool = False) -> Decision | None:
    """Decide on one queued conversation in one transaction. The conversation is locked
    with ``skip_locked`` (None when another worker holds it or it is no longer queued),
    or, with ``wait``, waiting for the worker that holds it to finish."""
    with transaction.atomic():
        conversation = queries.queued_chat(conversation_id, skip_locked=not wait)
        if conversation is None:
            return None
        return _decide(conversation, held)


SCAN_CHUNK = 100


def _queued(organization_id: int) -> Iterator[Mapping[str, Any]]:
    """The organization's queued chats in queue order, read a chunk at a time as the pass
    moves on, not once per decision. A chat another worker takes meanwhile stays in the
    chunk (its decision finds it gone). One that arrives meanwhile ahead of the chunk's end
    is not met, as one ahead of the pass's position never was: an agent's place still
    never goes past it (the decision's queue-order check sends the pass back to it), and
    its own routing request starts another pass."""
    cursor: Cursor | None = None
    while True:
        qs = Conversation.objects.queued().filter(organization_id=organization_id)
        if cursor is not None:
            qs = qs.filter(cursor.after())
        chunk = list(
            qs.in_queue_order().values(
                "pk",
                "priority",
                "queued_at",
                "project_id",
                "language",
                "required_skills",
                "offer_passed_by_id",
            )[:SCAN_CHUNK]
        )
        yield from chunk
        if len(chunk) < SCAN_CHUNK:
            return
        cursor = Cursor.of(chunk[-1])


def route_queue(*, organization_id: int) -> int:
    """Assign the organization's queued conversations, in queue order, to agents with room.

    Returns how many were assigned. Safe in any number of workers at once: each decision
    locks its conversation with ``skip_locked``, so workers share the queue; an agent's
    place never goes to a later chat while an earlier one it could take still waits (the
    worker goes back and decides that one first, waiting for its lock). A worker passes
    over chats of a kind (project, language, skills) that already found nobody in this
    pass, and stops when nobody has room; it asks that only when its last decision did
    not show an agent with room left. Chats left waiting get their waiting note at the
    end. The worker's task and the sweep run it under the organization's pass lock
    (``conversations.passes``), one pass of an organization at a time, which spares the passes
    each other's way."""
    started = timezone.now()
    assigned = 0
    queue = _queued(organization_id)
    row: Mapping[str, Any] | None = None  # the chat being decided, kept across retries
    hopeless: set[Signature] = set()
    held: set[int] = set()  # waiting for their last agent
    retries = 0
    room_known = False
    while room_known or queries.anyone_has_room(organization_id):
        room_known = True
        if row is None:
            row = next((r for r in queue if _signature(r) not in hopeless), None)
            if row is None:
                break
        decision = route_one(conversation_id=row["pk"], held=held)
        if decision is not None and decision.filled:
            room_known = False
        if (
            decision is not None
            and decision.outcome in (Outcome.RETRY, Outcome.BEHIND)
            and retries < MAX_RETRIES
        ):
            retries += 1
            if decision.earlier is not None:
                first = route_one(conversation_id=decision.earlier, held=held, wait=True)
                # None: another worker decided it meanwhile, and what it left is not known.
                if first is None or first.filled:
                    room_known = False
                if first is not None and first.outcome is Outcome.ASSIGNED:
                    assigned += 1
                elif first is not None and first.outcome is Outcome.STICKY_WAIT:
                    held.add(decision.earlier)
            continue
        retries = 0
        outcome = decision.outcome if decision is not None else None
        if outcome is Outcome.ASSIGNED:
            assigned += 1
        elif outcome is Outcome.WAITING:
            hopeless.add(_signature(row))
        elif outcome is Outcome.STICKY_WAIT:
            held.add(row["pk"])
        row = None
    mark_waiting(organization_id=organization_id, queued_before=started, held=held)
    if assigned:
        logger.info("routed", extra={"org": organization_id, "assigned": assigned})
    return assigned


def route_all() -> int:
    """Route every organization that has queued chats: the sweep's safety net for a
    trigger that was lost. An organization whose queue a pass is walking now is left to
    it; the next sweep comes back."""
    org_ids = (
        Conversation.objects.filter(status=ConversationStatus.QUEUED)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    assigned = 0
    for org_id in list(org_ids):
        with running(ROUTING_PASS, org_id) as ours:
            if ours:
                assigned += route_queue(organization_id=org_id)
    return assigned


def requeue(
    *,
    conversation: Conversation,
    kind: str,
    rule: str,
    actor: Membership | None = None,
    note: str = "",
    data: dict[str, object] | None = None,
) -> Conversation:
    """Put a locked conversation back in the queue (its agent's dock drops it) and ask
    routing to place it. The caller holds the conversation's lock."""
    now = timezone.now()
    previous_agent_id = write_move(
        conversation,
        changes={
            "status": ConversationStatus.QUEUED,
            "agent": None,
            "assigned_at": None,
            "queued_at": now,
        },
        kind=kind,
        rule=rule,
        actor=actor,
        note=note,
        data=data,
        at=now,
    )
    publish_conversation(EventType.CONVERSATION_TRANSFERRED, conversation, to=[previous_agent_id])
    request_routing(organization_id=conversation.organization_id)
    return conversation


def reassign_offline() -> int:
    """Send the open chats of agents Offline for ``ROUTING_OFFLINE_REASSIGN_SECONDS`` back
    to routing, each with a note in its thread for the next agent. Returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.ROUTING_OFFLINE_REASSIGN_SECONDS)
    gone = Q(presence__status=PresenceStatus.OFFLINE, presence__since__lte=cutoff)
    conversation_ids = list(
        Conversation.objects.filter(
            status=ConversationStatus.ASSIGNED,
            agent__in=Membership.objects.filter(gone),
        ).values_list("pk", flat=True)
    )
    moved = 0
    for conversation_id in conversation_ids:
        with transaction.atomic():
            conversation = (
                Conversation.objects.filter(pk=conversation_id, status=ConversationStatus.ASSIGNED)
                .select_for_update(skip_locked=True, of=("self",), no_key=True)
                .select_related("agent__user", "agent__presence")
                .first()
            )
            if conversation is None or conversation.agent_id is None:
                continue
            # The member's lock orders this after any presence change in flight.
            agent = lock_member(conversation.agent_id)
            if not Membership.objects.filter(gone, pk=agent.pk).exists():
                continue
            since = agent.presence.since
            requeue(
                conversation=conversation,
                kind=EventKind.REASSIGNED,
                rule=Rule.REASSIGNED_AFTER_OFFLINE,
                note=(
                    f"{agent.user.display_name} went offline at {since:%H:%M} UTC and did not "
                    f"come back within {settings.ROUTING_OFFLINE_REASSIGN_SECONDS} seconds, so "
                    "this chat went back to routing. The thread above is what the customer "
                    "has already said: pick up from there."
                ),
                data={"offline_since": since.isoformat()},
            )
            moved += 1
    return moved


def sweep() -> None:
    """The periodic safety net (Celery beat): presence of vanished docks, reassignment
    after Offline, and routing of whatever is still queued."""
    presence_expire_stale()
    reassign_offline()
    route_all()
