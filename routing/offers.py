"""Offers: in a project with ``offer_timeout_seconds``, routing offers a chat to one
agent (``router.offer_to``) instead of assigning it, and the agent accepts or declines it
in the dock. A declined offer, or one that runs out, goes back to the queue in its place
and is offered to the next eligible agent, never to the same agent twice in a row
(``Conversation.offer_passed_by``); an agent who lets ``MISSES_BEFORE_BUSY`` offers in a
row pass is set Busy, as they are plainly not at their desk.

The offer's end is a fact of the row: every step locks the conversation on the condition
that makes it valid (offered, to this agent, and the time not run out for an accept, run
out for the expiry), so a late accept is refused however the timeout task is doing, and
of an accept and an expiry racing, one wins. Locks are routing's order: the conversation,
then the agent, then (setting Busy) their presence, then the streams
(``docs/concurrency.md``)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from conversations.activity import activity_on_commit
from conversations.events import EventType
from conversations.models import (
    Conversation,
    ConversationStatus,
    EventKind,
    Membership,
    Rule,
)
from presence.models import PresenceSource, PresenceStatus
from presence.services import presence_set
from routing import router
from routing.triggers import request_routing

logger = logging.getLogger(__name__)

MISSES_BEFORE_BUSY = 3


class OfferGone(Exception):
    """The offer cannot be acted on (it ran out, or is not this agent's); the message says
    which, for the agent."""


def _offered(conversation_id: int) -> Conversation | None:
    """The conversation, if it is offered, with what its payload names."""
    return (
        Conversation.objects.filter(pk=conversation_id, status=ConversationStatus.OFFERED)
        .select_related(*router.PAYLOAD_RELATIONS)
        .first()
    )


def _why_gone(conversation_id: int, member: Membership) -> str:
    """Why ``member`` can no longer act on the offer, read after the refusal."""
    chat = Conversation.objects.filter(pk=conversation_id).values("status", "offered_to_id").first()
    status = chat and chat["status"]
    if status == ConversationStatus.OFFERED and chat and chat["offered_to_id"] == member.pk:
        return "This offer ran out: the chat is being offered to someone else."
    if status == ConversationStatus.ASSIGNED:
        return "This chat is no longer offered to you: it went to someone else."
    return "This chat is no longer offered to you."


def _locked_offer(conversation_id: int, member: Membership, *, running: bool) -> Conversation:
    """The conversation offered to ``member``, locked; with ``running``, only while its
    offer has time left (the database's clock decides). Raises ``OfferGone``."""
    offers = Conversation.objects.filter(
        pk=conversation_id, status=ConversationStatus.OFFERED, offered_to_id=member.pk
    )
    if running:
        offers = offers.filter(offer_expires_at__gt=Now())
    locked = offers.select_related(*router.PAYLOAD_RELATIONS).locked().first()
    if locked is None:
        raise OfferGone(_why_gone(conversation_id, member))
    return locked


def offer_accept(*, conversation_id: int, member: Membership) -> Conversation:
    """The agent takes the chat offered to them, if the offer has not run out: it is
    theirs (its place in their room was held since the offer)."""
    with transaction.atomic():
        conversation = _locked_offer(conversation_id, member, running=True)
        agent = router.lock_member(member.pk)
        now = timezone.now()
        expires = conversation.offer_expires_at
        assert expires is not None  # the constraint ``offered_conversation_has_one_offer``
        answered = conversation.project.offer_timeout_seconds - (expires - now).total_seconds()
        router.write_move(
            conversation,
            changes={
                "status": ConversationStatus.ASSIGNED,
                "agent": agent,
                "assigned_at": now,
                "offer_passed_by": None,
            },
            kind=EventKind.ASSIGNED,
            rule=Rule.OFFER_ACCEPTED,
            actor=agent,
            data={"answered_after_seconds": round(answered, 3)},
            at=now,
        )
        Membership.objects.filter(pk=agent.pk).update(offers_missed=0)
        router.publish_conversation(EventType.CONVERSATION_ASSIGNED, conversation, to=[agent.pk])
        activity_on_commit(
            "chat %s accepted by %s",
            conversation.pk,
            router.member_name(agent),
            conversation=conversation.pk,
            agent=agent.pk,
        )
    return conversation


def offer_decline(*, conversation_id: int, member: Membership) -> Conversation:
    """The agent turns the offered chat down (even after its time ran out and before the
    expiry passed it on: the same end, sooner); it goes to the next eligible agent."""
    with transaction.atomic():
        conversation = _locked_offer(conversation_id, member, running=False)
        _pass_on(
            conversation,
            kind=EventKind.DECLINED,
            rule=Rule.OFFER_DECLINED,
            actor=member,
            how="declined it",
        )
    return conversation


def offer_expire(*, conversation_id: int, wait: bool = True) -> bool:
    """Pass on the offer of a conversation whose time has run out (the database's clock
    decides); False when it is not offered or has time left. ``wait`` waits for a
    transaction holding the conversation (an accept being decided), else passes it by."""
    with transaction.atomic():
        conversation = (
            Conversation.objects.filter(
                pk=conversation_id,
                status=ConversationStatus.OFFERED,
                offer_expires_at__lte=Now(),
            )
            .select_related(*router.PAYLOAD_RELATIONS)
            .locked(skip_locked=not wait)
            .first()
        )
        if conversation is None:
            return False
        _pass_on(
            conversation,
            kind=EventKind.OFFER_EXPIRED,
            rule=Rule.OFFER_TIMED_OUT,
            actor=None,
            how="let it run out",
        )
    return True


def offer_expires_at(*, conversation_id: int) -> datetime | None:
    """When the conversation's offer runs out, if it is offered."""
    return (
        Conversation.objects.filter(pk=conversation_id, status=ConversationStatus.OFFERED)
        .values_list("offer_expires_at", flat=True)
        .first()
    )


def offers_expire_due() -> int:
    """The sweep's part: pass on every offer whose time ran out and whose task was lost
    (or is late). Conversations another transaction holds are left to it. Returns how
    many were passed on."""
    due = list(
        Conversation.objects.filter(
            status=ConversationStatus.OFFERED, offer_expires_at__lte=Now()
        ).values_list("pk", flat=True)
    )
    return sum(offer_expire(conversation_id=pk, wait=False) for pk in due)


def _pass_on(
    conversation: Conversation, *, kind: str, rule: str, actor: Membership | None, how: str
) -> None:
    """Send the locked offered conversation back to the queue in its place (its
    ``queued_at`` kept: the customer has been waiting all along), not to be offered to
    this agent next; count the agent's miss and set them Busy at the last one allowed."""
    agent_id = conversation.offered_to_id
    assert agent_id is not None
    agent = router.lock_member(agent_id)
    missed = agent.offers_missed + 1
    to_busy = missed >= MISSES_BEFORE_BUSY
    Membership.objects.filter(pk=agent_id).update(offers_missed=0 if to_busy else missed)
    name = agent.user.display_name
    note = f"{name} {how}; it goes to the next agent."
    now = timezone.now()
    router.write_move(
        conversation,
        changes={"status": ConversationStatus.QUEUED, "offer_passed_by": agent},
        kind=kind,
        rule=rule,
        actor=actor,
        note=note,
        data={"agent": agent_id, "missed_in_a_row": missed},
        at=now,
    )
    router.publish_conversation(EventType.CONVERSATION_TRANSFERRED, conversation, to=[agent_id])
    presence = getattr(agent, "presence", None)
    if to_busy and presence is not None and presence.status == PresenceStatus.AVAILABLE:
        presence_set(member=agent, status=PresenceStatus.BUSY, source=PresenceSource.MISSED_OFFERS)
        conversation.events.create(
            kind=EventKind.UPDATED,
            rule=rule,
            note=f"{name} let {missed} offers in a row pass and was set Busy.",
            data={"agent": agent_id, "presence": PresenceStatus.BUSY},
            created_at=now,
        )
    request_routing(organization_id=conversation.organization_id)
    activity_on_commit(
        "chat %s: %s %s",
        conversation.pk,
        router.member_name(agent),
        how,
        conversation=conversation.pk,
        agent=agent_id,
        rule=rule,
    )
