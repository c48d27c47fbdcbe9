"""Offers: a chat offered to one agent, who accepts or declines it before its time runs
out; it passes on to the next agent otherwise, never to the same one twice in a row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.events import EventType
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    DockEvent,
    EventKind,
    Membership,
    Rule,
)
from presence.models import AgentPresence, PresenceStatus
from routing.offers import (
    MISSES_BEFORE_BUSY,
    OfferGone,
    offer_accept,
    offer_decline,
    offer_expire,
    offers_expire_due,
)
from routing.router import route_queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def offering(desk):
    desk.project.offer_timeout_seconds = 20
    desk.project.save(update_fields=["offer_timeout_seconds"])
    return desk


def routed(desk) -> None:
    route_queue(organization_id=desk.org.pk)


def run_out(chat: Conversation) -> None:
    """The offer's time is up (as if the clock had moved on)."""
    Conversation.objects.filter(pk=chat.pk).update(
        offer_expires_at=timezone.now() - timedelta(milliseconds=1)
    )


def open_count(member: Membership) -> int:
    return Membership.objects.get(pk=member.pk).open_conversations


def test_a_project_without_an_offer_time_assigns_at_once(desk):
    agent = desk.agent()
    chat = desk.chat()

    routed(desk)

    chat.refresh_from_db()
    assert (chat.status, chat.agent_id, chat.offered_to_id) == ("assigned", agent.pk, None)


def test_a_chat_is_offered_to_one_agent_and_holds_a_place_in_their_room(offering):
    agent = offering.agent(max_open=1)
    chat = offering.chat()

    routed(offering)

    chat.refresh_from_db()
    assert (chat.status, chat.agent_id, chat.offered_to_id) == ("offered", None, agent.pk)
    assert 19 < (chat.offer_expires_at - timezone.now()).total_seconds() <= 20
    assert open_count(agent) == 1
    offered = DockEvent.objects.get(membership=agent, type=EventType.CONVERSATION_OFFERED)
    assert offered.data["offered_to"] == agent.pk
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.OFFERED)
    assert (event.to_agent_id, event.rule) == (agent.pk, Rule.LEAST_LOADED)
    # Full with the offer: the next chat waits.
    second = offering.chat()
    routed(offering)
    second.refresh_from_db()
    assert second.status == ConversationStatus.QUEUED


def test_accepting_makes_the_chat_the_agents_and_keeps_the_count(offering):
    agent = offering.agent()
    chat = offering.chat()
    routed(offering)

    offer_accept(conversation_id=chat.pk, member=agent)

    chat.refresh_from_db()
    assert (chat.status, chat.agent_id, chat.offered_to_id, chat.offer_expires_at) == (
        "assigned",
        agent.pk,
        None,
        None,
    )
    assert open_count(agent) == 1
    accepted = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
    assert (accepted.rule, accepted.actor_id) == (Rule.OFFER_ACCEPTED, agent.pk)
    assert offering.miscounted() == {}


def test_an_accept_after_the_time_ran_out_is_refused_clearly_and_changes_nothing(offering):
    agent = offering.agent()
    chat = offering.chat()
    routed(offering)
    run_out(chat)

    with pytest.raises(OfferGone, match="ran out"):
        offer_accept(conversation_id=chat.pk, member=agent)

    chat.refresh_from_db()
    assert chat.status == ConversationStatus.OFFERED


def test_nobody_else_may_accept_an_offer(offering):
    agent, other = offering.agent(), offering.agent(presence="busy")
    chat = offering.chat()
    routed(offering)

    with pytest.raises(OfferGone, match="no longer offered to you"):
        offer_accept(conversation_id=chat.pk, member=other)
    offer_accept(conversation_id=chat.pk, member=agent)


def test_a_declined_chat_goes_to_the_next_agent_and_keeps_its_place(offering):
    first = offering.agent()
    second = offering.agent()
    chat = offering.chat(ago=30)
    routed(offering)
    chat.refresh_from_db()
    offered_first = chat.offered_to_id
    queued_at = chat.queued_at

    offer_decline(conversation_id=chat.pk, member=Membership.objects.get(pk=offered_first))
    chat.refresh_from_db()
    assert (chat.status, chat.queued_at, chat.offer_passed_by_id) == (
        "queued",
        queued_at,
        offered_first,
    )
    routed(offering)

    chat.refresh_from_db()
    assert chat.status == ConversationStatus.OFFERED
    assert chat.offered_to_id == ({first.pk, second.pk} - {offered_first}).pop()
    assert open_count(Membership.objects.get(pk=offered_first)) == 0
    declined = ConversationEvent.objects.get(conversation=chat, kind=EventKind.DECLINED)
    assert (declined.from_agent_id, declined.actor_id) == (offered_first, offered_first)
    # The agent who declined hears the chat leave their dock.
    left = DockEvent.objects.get(membership_id=offered_first, type="conversation.transferred")
    assert left.data["status"] == "queued"


def test_a_chat_is_never_offered_to_the_same_agent_twice_in_a_row(offering):
    only = offering.agent()
    chat = offering.chat()
    routed(offering)
    offer_decline(conversation_id=chat.pk, member=only)

    routed(offering)
    chat.refresh_from_db()
    assert chat.status == ConversationStatus.QUEUED

    # Another chat of the same kind is still offered to them.
    other = offering.chat()
    routed(offering)
    other.refresh_from_db()
    assert other.offered_to_id == only.pk

    colleague = offering.agent()
    routed(offering)
    chat.refresh_from_db()
    assert chat.offered_to_id == colleague.pk


def test_an_offer_that_runs_out_passes_on_by_the_sweep(offering):
    offering.agent()
    offering.agent()
    chat = offering.chat()
    routed(offering)
    chat.refresh_from_db()
    first = chat.offered_to_id

    assert offer_expire(conversation_id=chat.pk) is False  # time left
    run_out(chat)
    assert offers_expire_due() == 1
    routed(offering)

    chat.refresh_from_db()
    assert chat.status == ConversationStatus.OFFERED and chat.offered_to_id != first
    expired = ConversationEvent.objects.get(conversation=chat, kind=EventKind.OFFER_EXPIRED)
    assert (expired.rule, expired.from_agent_id, expired.actor_id) == (
        Rule.OFFER_TIMED_OUT,
        first,
        None,
    )


def test_an_agent_who_lets_three_offers_in_a_row_pass_is_set_busy_with_a_notice(offering):
    agent = offering.agent(max_open=5)
    chats = [offering.chat(ago=10 - i) for i in range(MISSES_BEFORE_BUSY)]
    routed(offering)

    offer_decline(conversation_id=chats[0].pk, member=agent)
    run_out(chats[1])
    offers_expire_due()
    assert AgentPresence.objects.get(membership=agent).status == PresenceStatus.AVAILABLE
    offer_decline(conversation_id=chats[2].pk, member=agent)

    presence = AgentPresence.objects.get(membership=agent)
    assert (presence.status, presence.source) == ("busy", "missed-offers")
    notice = DockEvent.objects.filter(membership=agent, type="presence.changed").last()
    assert notice.data["source"] == "missed-offers"
    assert ConversationEvent.objects.filter(
        conversation=chats[2], note__contains="was set Busy"
    ).exists()
    assert Membership.objects.get(pk=agent.pk).offers_missed == 0


def test_an_accept_clears_the_run_of_misses(offering):
    agent = offering.agent(max_open=5)
    chats = [offering.chat(ago=10 - i) for i in range(MISSES_BEFORE_BUSY)]
    routed(offering)

    offer_decline(conversation_id=chats[0].pk, member=agent)
    offer_decline(conversation_id=chats[1].pk, member=agent)
    offer_accept(conversation_id=chats[2].pk, member=agent)

    assert Membership.objects.get(pk=agent.pk).offers_missed == 0
    assert AgentPresence.objects.get(membership=agent).status == PresenceStatus.AVAILABLE


def test_a_supervisor_may_assign_an_offered_chat_and_the_offer_ends(offering):
    from routing.services import conversation_transfer

    offered, other = offering.agent(), offering.agent(presence="busy")
    chat = offering.chat()
    routed(offering)

    conversation_transfer(conversation=chat, actor=offering.supervisor, to_agent=other)

    chat.refresh_from_db()
    assert (chat.status, chat.agent_id, chat.offered_to_id) == ("assigned", other.pk, None)
    assert (open_count(offered), open_count(other)) == (0, 1)
    with pytest.raises(OfferGone):
        offer_accept(conversation_id=chat.pk, member=offered)
