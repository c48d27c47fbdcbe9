"""The questions a routing decision asks the database, as querysets that read like its
rules. The rules are routing's, so they live here, over the models' own querysets
(``MembershipQuerySet``, ``ConversationQuerySet``): the core keeps its facts (who works
chats, who has room, load order, queue order) and knows nothing of eligibility,
stickiness or waiting notes. Why each question is asked where it is: ``routing.router``."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db.models import BigIntegerField, Exists, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from psycopg.types.json import Jsonb

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    MembershipQuerySet,
)
from presence.models import PresenceStatus

# The audit entry written the first time a chat finds nobody with room; an assignment
# after it is a "drain" (capacity freed), one without it "least-loaded" (at arrival).
WAITING_REASON = "no-eligible-agent"


def wants(chat: Conversation) -> tuple[str, list[str]]:
    """The language (lower case, empty: any) and the skills ``chat`` asks of an agent."""
    return (chat.language or "").lower(), sorted(chat.required_skills or [])


def working_on(chat: Conversation) -> MembershipQuerySet:
    """Members of ``chat``'s organization who work chats on its project."""
    return Membership.objects.works_chats().filter(
        organization_id=chat.organization_id, projects=chat.project_id
    )


def eligible_for(chat: Conversation) -> MembershipQuerySet:
    """Members who may take ``chat`` now, whatever their load: they work chats on its
    project, are Available, speak its language and have every skill it needs."""
    language, skills = wants(chat)
    members = working_on(chat).filter(presence__status=PresenceStatus.AVAILABLE)
    if language:
        members = members.filter(languages__contains=[language])
    if skills:
        members = members.filter(skills__contains=skills)
    return members


def anyone_has_room(organization_id: int) -> bool:
    """Whether anybody of the organization who works chats is Available with room."""
    return (
        Membership.objects.works_chats()
        .filter(organization_id=organization_id, presence__status=PresenceStatus.AVAILABLE)
        .with_room()
        .exists()
    )


# The decision's first read carries the two questions below on every call. Each is
# built once (per sticky window), not per call: building its queryset again each time
# cost the worker more than PostgreSQL spent answering it.


@cache
def _last_agent_within(hours: int) -> Subquery:
    return Subquery(
        Conversation.objects.filter(
            contact=OuterRef("contact"),
            project=OuterRef("project"),
            status=ConversationStatus.CLOSED,
            agent__isnull=False,
            closed_at__gte=Now() - timedelta(hours=hours),
        )
        .order_by("-closed_at")
        .values("agent")[:1]
    )


def last_agent() -> Subquery:
    """The customer's last agent on the outer chat's project: the agent of their last
    chat there closed within ``ROUTING_STICKY_WINDOW_HOURS``. The chat itself is queued,
    so never among them."""
    return _last_agent_within(settings.ROUTING_STICKY_WINDOW_HOURS)


@cache
def waiting_noted() -> Exists:
    """Whether the outer chat got its waiting note during this stay in the queue."""
    return Exists(
        ConversationEvent.objects.filter(
            conversation=OuterRef("pk"),
            kind=EventKind.QUEUED,
            data__reason=WAITING_REASON,
            created_at__gte=OuterRef("queued_at"),
        )
    )


def queued_chat(conversation_id: int, *, skip_locked: bool) -> Conversation | None:
    """The queued chat, locked, with what a decision and its event read of it: its
    contact and project, the customer's last agent (``last_agent_id``) and whether it
    got its waiting note during this stay in the queue (``has_waited``). None when it is
    no longer queued, or with ``skip_locked`` when another transaction holds it."""
    chat = (
        Conversation.objects.queued()
        .select_related("contact", "project")
        .annotate(last_agent_id=last_agent(), has_waited=waiting_noted())
        .locked(skip_locked=skip_locked)
    )
    try:
        return chat.get(pk=conversation_id)
    except Conversation.DoesNotExist:
        return None


def locked_member(member_id: int) -> Membership:
    """The member, their row locked until commit, with their user and presence."""
    return Membership.objects.select_related("user", "presence").locked().get(pk=member_id)


# The first queued chat ahead of a position in queue order that a member could take (the
# rules of ``eligible_for`` seen from the chat's side), other than those held for their
# own last agent and those this member just let pass as an offer (never offered to the
# same agent twice in a row): its id, or NULL. Queue order is priority descending, then queued_at and
# id ascending, so "ahead" is two ranges of the index ``queue_order``: a higher priority,
# then the same priority and a lower (queued_at, id). Each is walked in index order and
# stops at its first chat that fits; one comparison of whole rows, which no index serves,
# would read the organization's whole queue on every decision.
#
# Routing's one statement written by hand. Its ORM version (two sliced querysets under a
# Coalesce) planned the same ranges, but the ORM sends every value as a parameter,
# ``status = 'queued'`` included, so no generic plan of the prepared statement could use
# the partial index and each call was planned again; and building its nested querysets
# was the largest CPU cost of a decision in the worker. ``tests/routing/test_plans.py``
# pins its plan.
CHAT_AHEAD = """
SELECT ahead.id
FROM (SELECT %s::bigint AS organization_id, %s::bigint AS member_id, %s::jsonb AS skills,
             %s::text[] AS languages, %s::bigint[] AS held,
             %s::integer AS priority, %s::timestamptz AS queued_at, %s::bigint AS id) AS chat,
LATERAL (
    (SELECT q.id, 0 AS part FROM conversations_conversation q
     WHERE q.organization_id = chat.organization_id AND q.status = 'queued'
       AND q.priority > chat.priority
       AND q.id <> ALL (chat.held) AND q.required_skills <@ chat.skills
       AND q.offer_passed_by_id IS DISTINCT FROM chat.member_id
       AND (q.language = '' OR q.language = ANY (chat.languages))
       AND EXISTS (SELECT FROM conversations_membership_projects mp
                   WHERE mp.membership_id = chat.member_id AND mp.project_id = q.project_id)
     ORDER BY q.priority DESC, q.queued_at, q.id LIMIT 1)
    UNION ALL
    (SELECT q.id, 1 FROM conversations_conversation q
     WHERE q.organization_id = chat.organization_id AND q.status = 'queued'
       AND q.priority = chat.priority AND (q.queued_at, q.id) < (chat.queued_at, chat.id)
       AND q.id <> ALL (chat.held) AND q.required_skills <@ chat.skills
       AND q.offer_passed_by_id IS DISTINCT FROM chat.member_id
       AND (q.language = '' OR q.language = ANY (chat.languages))
       AND EXISTS (SELECT FROM conversations_membership_projects mp
                   WHERE mp.membership_id = chat.member_id AND mp.project_id = q.project_id)
     ORDER BY q.queued_at, q.id LIMIT 1)
) AS ahead
ORDER BY ahead.part LIMIT 1
"""


def chat_ahead(member: Membership, chat: Conversation, held: Collection[int]) -> RawSQL:
    """``CHAT_AHEAD`` for ``member`` and ``chat``'s place, as an expression to annotate
    with. The member's skills and languages are those read before their lock: an edit
    meanwhile only changes which earlier chat, if any, is decided first."""
    params = [
        member.organization_id,
        member.pk,
        Jsonb(member.skills or []),
        list(member.languages or []),
        sorted(held),
        chat.priority,
        chat.queued_at,
        chat.pk,
    ]
    return RawSQL(CHAT_AHEAD, params, output_field=BigIntegerField())


def under_lock(
    member: Membership, chat: Conversation, held: Collection[int]
) -> tuple[Membership, int | None]:
    """``member``, whose row the caller has locked, read again by a fresh statement (their
    presence and open chats as committed now), and the first queued chat ahead of
    ``chat`` that they could take, other than those ``held`` for their own last agent
    (None: none)."""
    again = (
        Membership.objects.select_related("user", "presence")
        .annotate(chat_ahead=chat_ahead(member, chat, held))
        .get(pk=member.pk)
    )
    return again, again.chat_ahead  # type: ignore[attr-defined]
