"""The assignment rules: eligibility, choice, stickiness and the queue."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.events import conversation_payload
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    DockEvent,
    EventKind,
    Role,
    Rule,
)
from presence.models import PresenceStatus
from routing.queries import WAITING_REASON
from routing.router import Outcome, route_one, route_queue
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    OrganizationFactory,
    ProjectFactory,
)


def refresh(*objs):
    for obj in objs:
        obj.refresh_from_db()


def assignment(conversation) -> ConversationEvent:
    return ConversationEvent.objects.get(conversation=conversation, kind=EventKind.ASSIGNED)


def test_an_available_agent_with_room_gets_a_new_chat(desk):
    agent = desk.agent()
    chat = desk.chat()

    assert route_queue(organization_id=desk.org.pk) == 1

    refresh(chat)
    assert chat.status == ConversationStatus.ASSIGNED
    assert chat.agent == agent
    assert chat.assigned_at is not None
    event = assignment(chat)
    assert event.rule == Rule.LEAST_LOADED
    assert event.to_agent == agent
    assert event.data["open"] == 0 and event.data["max_open"] == 3


@pytest.mark.parametrize("status", [PresenceStatus.BUSY, PresenceStatus.OFFLINE])
def test_a_busy_or_offline_agent_gets_no_new_chat(desk, status):
    desk.agent(presence=status)
    chat = desk.chat()

    assert route_queue(organization_id=desk.org.pk) == 0

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED
    assert chat.agent is None


def test_a_full_agent_gets_no_new_chat_and_the_chat_waits_with_a_reason(desk):
    agent = desk.agent(max_open=2)
    desk.open_chats(agent, 2)
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED
    waiting = ConversationEvent.objects.get(conversation=chat, kind=EventKind.QUEUED)
    assert "no eligible agent" in waiting.note.lower()
    # A second pass does not repeat the note.
    route_queue(organization_id=desk.org.pk)
    assert ConversationEvent.objects.filter(conversation=chat, kind=EventKind.QUEUED).count() == 1


def test_an_agent_with_max_open_zero_takes_nothing(desk):
    desk.agent(max_open=0)
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED


def test_agents_of_another_project_or_organization_get_nothing(desk):
    other_project = ProjectFactory(organization=desk.org)
    desk.agent(projects=[other_project])
    stranger_channel = ChannelFactory(organization=OrganizationFactory())
    MembershipFactory(
        organization=stranger_channel.organization, projects=[stranger_channel.project]
    )
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED


def test_an_agent_must_speak_the_language_and_have_every_required_skill(desk):
    desk.agent(languages=["en"], skills=["billing", "refunds"])
    spanish_speaker = desk.agent(languages=["es"], skills=["billing"])
    expert = desk.agent(languages=["en"], skills=["billing", "refunds", "vip"])
    spanish_chat = desk.chat(language="es", required_skills=["billing"], ago=2)
    vip_chat = desk.chat(language="en", required_skills=["refunds", "vip"], ago=1)
    nobody_chat = desk.chat(language="fr")

    route_queue(organization_id=desk.org.pk)

    refresh(spanish_chat, vip_chat, nobody_chat)
    assert spanish_chat.agent == spanish_speaker
    assert vip_chat.agent == expert
    assert nobody_chat.status == ConversationStatus.QUEUED


def test_a_chat_without_language_goes_to_anyone(desk):
    agent = desk.agent(languages=["de"])
    chat = desk.chat(language="")

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == agent


def test_the_least_loaded_agent_gets_the_chat_by_share_of_capacity(desk):
    half_full = desk.agent(max_open=2)
    quarter_full = desk.agent(max_open=4)
    desk.open_chats(half_full, 1)
    desk.open_chats(quarter_full, 1)
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == quarter_full


def test_a_tie_goes_to_whoever_has_waited_longest_since_their_last_assignment(desk):
    now = timezone.now()
    recent = desk.agent()
    long_ago = desk.agent()
    type(recent).objects.filter(pk=recent.pk).update(last_assigned_at=now - timedelta(minutes=1))
    type(long_ago).objects.filter(pk=long_ago.pk).update(last_assigned_at=now - timedelta(hours=1))
    first, second = desk.chat(ago=2), desk.chat(ago=1)

    route_queue(organization_id=desk.org.pk)

    refresh(first, second, recent, long_ago)
    assert first.agent == long_ago
    # After that assignment both carry one chat; the other agent has now waited longest.
    assert second.agent == recent
    assert long_ago.last_assigned_at > now


def test_a_returning_customer_goes_back_to_their_last_agent_even_when_others_are_freer(desk):
    last_agent = desk.agent(max_open=3)
    desk.open_chats(last_agent, 2)
    desk.agent(max_open=3)
    chat = desk.chat()
    desk.closed_chat(contact=chat.contact, agent=last_agent, hours_ago=5)

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == last_agent
    assert assignment(chat).rule == Rule.STICKY


def test_stickiness_ends_after_the_window(desk, settings):
    settings.ROUTING_STICKY_WINDOW_HOURS = 2
    last_agent = desk.agent()
    desk.open_chats(last_agent, 1)
    other = desk.agent()
    chat = desk.chat()
    desk.closed_chat(contact=chat.contact, agent=last_agent, hours_ago=3)

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == other
    assert assignment(chat).rule == Rule.LEAST_LOADED


def test_stickiness_is_per_project(desk):
    last_agent = desk.agent()
    desk.open_chats(last_agent, 1)
    other = desk.agent()
    chat = desk.chat()
    other_channel = ChannelFactory(organization=desk.org)
    last_agent.projects.add(other_channel.project)
    ConversationFactory(
        channel=other_channel,
        contact=chat.contact,
        agent=last_agent,
        status=ConversationStatus.CLOSED,
        closed_at=timezone.now(),
    )

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == other


@pytest.mark.parametrize("why", ["full", "busy"])
def test_a_returning_customer_waits_for_their_agent_who_is_full_or_busy(desk, settings, why):
    settings.ROUTING_STICKY_WAIT_SECONDS = 60
    last_agent = desk.agent(max_open=1, presence=PresenceStatus.BUSY if why == "busy" else None)
    if why == "full":
        desk.open_chats(last_agent, 1)
    other = desk.agent()
    chat = desk.chat(ago=10)
    desk.closed_chat(contact=chat.contact, agent=last_agent, hours_ago=1)

    route_queue(organization_id=desk.org.pk)
    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED
    # It waits for its agent, not for room: no waiting note.
    assert not ConversationEvent.objects.filter(conversation=chat, kind=EventKind.QUEUED).exists()

    # Once the wait is over anyone eligible may take it.
    type(chat).objects.filter(pk=chat.pk).update(queued_at=timezone.now() - timedelta(seconds=61))
    route_queue(organization_id=desk.org.pk)
    refresh(chat)
    assert chat.agent == other


def test_a_returning_customer_whose_agent_is_offline_does_not_wait(desk, settings):
    settings.ROUTING_STICKY_WAIT_SECONDS = 3600
    last_agent = desk.agent(presence=PresenceStatus.OFFLINE)
    other = desk.agent()
    chat = desk.chat()
    desk.closed_chat(contact=chat.contact, agent=last_agent, hours_ago=1)

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == other


def test_a_returning_customer_does_not_follow_an_agent_who_lost_the_needed_skill(desk, settings):
    settings.ROUTING_STICKY_WAIT_SECONDS = 3600
    last_agent = desk.agent(presence=PresenceStatus.BUSY, skills=[])
    other = desk.agent(skills=["vip"])
    chat = desk.chat(required_skills=["vip"])
    desk.closed_chat(contact=chat.contact, agent=last_agent, hours_ago=1)

    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.agent == other


def test_the_queue_is_served_by_priority_then_age(desk):
    agent = desk.agent(max_open=2)
    oldest_normal = desk.chat(ago=30)
    newer_normal = desk.chat(ago=20)
    urgent = desk.chat(ago=5, priority=5)

    route_queue(organization_id=desk.org.pk)

    refresh(oldest_normal, newer_normal, urgent)
    assert urgent.agent == agent
    assert oldest_normal.agent == agent
    assert newer_normal.status == ConversationStatus.QUEUED


def test_a_chat_nobody_can_take_does_not_hold_up_the_chats_behind_it(desk):
    agent = desk.agent(languages=["en"])
    stuck = desk.chat(language="fi", ago=10)
    behind = desk.chat(language="en", ago=5)

    route_queue(organization_id=desk.org.pk)

    refresh(stuck, behind)
    assert stuck.status == ConversationStatus.QUEUED
    assert behind.agent == agent


def test_an_assignment_is_pushed_to_the_agent_and_the_supervisors(desk):
    agent = desk.agent()
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    for member in (agent, desk.supervisor):
        event = DockEvent.objects.get(membership=member, type="conversation.assigned")
        assert event.data["id"] == chat.pk
        assert event.data["agent"] == agent.pk
        assert event.data["status"] == "assigned"


def test_a_chat_held_for_its_last_agent_does_not_hold_up_the_chats_behind_it(desk, settings):
    settings.ROUTING_STICKY_WAIT_SECONDS = 3600
    last_agent = desk.agent(presence=PresenceStatus.BUSY)
    other = desk.agent(max_open=1)
    held = desk.chat(ago=10)
    desk.closed_chat(contact=held.contact, agent=last_agent, hours_ago=1)
    behind = desk.chat(ago=5)

    route_queue(organization_id=desk.org.pk)

    refresh(held, behind)
    assert held.status == ConversationStatus.QUEUED
    assert behind.agent == other
    # It waits for its agent, not for room: no "nobody has room" note.
    assert not ConversationEvent.objects.filter(conversation=held, kind=EventKind.QUEUED).exists()


def test_the_assignment_event_carries_the_chat_as_stored(desk):
    agent = desk.agent()
    chat = desk.chat()

    route_queue(organization_id=desk.org.pk)

    stored = Conversation.objects.select_related("contact", "project", "agent__user").get(
        pk=chat.pk
    )
    event = DockEvent.objects.get(membership=agent, type="conversation.assigned")
    assert event.data == json.loads(json.dumps(conversation_payload(stored)))


def test_an_admin_added_after_the_chat_arrived_hears_its_assignment(desk):
    agent = desk.agent()
    chat = desk.chat()
    later = MembershipFactory(organization=desk.org, role=Role.ADMIN, max_open=0)

    route_queue(organization_id=desk.org.pk)

    events = DockEvent.objects.filter(type="conversation.assigned", data__id=chat.pk)
    assert set(events.values_list("membership_id", flat=True)) == {
        agent.pk,
        desk.supervisor.pk,
        later.pk,
    }


def test_a_decision_for_a_new_customer_takes_ten_statements(desk):
    """BEGIN; lock the chat (with its last agent and whether it waited); choose and lock
    the agent; read the agent again (with the queue-order check); write the chat, the
    agent's open chats and last assignment, the audit entry; the realtime events; the
    webhook subscriptions that want them (none here); COMMIT. Each more is a round trip
    on every assignment."""
    desk.agent()
    chat = desk.chat()

    with CaptureQueriesContext(connection) as statements:
        decision = route_one(conversation_id=chat.pk, held=set())

    assert decision.outcome is Outcome.ASSIGNED
    assert len(statements) == 10, [q["sql"][:80] for q in statements.captured_queries]


@pytest.mark.parametrize(("max_open", "filled"), [(1, True), (2, False)])
def test_a_decision_says_whether_it_took_the_agents_last_place(desk, max_open, filled):
    desk.agent(max_open=max_open)
    chat = desk.chat()

    decision = route_one(conversation_id=chat.pk, held=set())

    assert decision.outcome is Outcome.ASSIGNED
    assert decision.filled is filled


def test_a_pass_reads_the_queue_once_and_asks_who_has_room_only_when_an_agent_fills_up(desk):
    """Three agents with room for two each and ten new chats: six decisions of ten
    statements; one read of the queue; whether anybody has room asked before the first
    decision and after each of the three that filled an agent (the last says nobody,
    and the pass ends); the waiting notes of the four left, in a transaction of their
    own that locks the chats and writes the notes."""
    agents = [desk.agent(max_open=2) for _ in range(3)]
    chats = [desk.chat(ago=10 - i) for i in range(10)]

    with CaptureQueriesContext(connection) as statements:
        assigned = route_queue(organization_id=desk.org.pk)

    assert assigned == 6
    assert len(statements) == 6 * 10 + 1 + 4 + 4, [
        q["sql"][:80] for q in statements.captured_queries
    ]
    refresh(*chats)
    assert {chat.agent for chat in chats[:6]} == set(agents)
    assert all(chat.status == ConversationStatus.QUEUED for chat in chats[6:])
    noted = ConversationEvent.objects.filter(kind=EventKind.QUEUED, data__reason=WAITING_REASON)
    assert sorted(noted.values_list("conversation_id", flat=True)) == [c.pk for c in chats[6:]]


def test_a_queue_longer_than_one_read_is_served_in_order_passing_over_kinds_nobody_takes(
    desk, monkeypatch
):
    monkeypatch.setattr("routing.router.SCAN_CHUNK", 2)
    agent = desk.agent(languages=["en"], max_open=10)
    languages = ["en", "fi", "en", "en", "fi", "fi", "en", "en"]
    chats = [desk.chat(language=lang, ago=10 - i) for i, lang in enumerate(languages)]

    assert route_queue(organization_id=desk.org.pk) == 5

    english = [chat for chat, lang in zip(chats, languages, strict=True) if lang == "en"]
    served = Conversation.objects.filter(agent=agent).order_by("assigned_at", "pk")
    assert list(served) == english
    for chat in chats:
        refresh(chat)
        if chat.language == "fi":
            assert chat.status == ConversationStatus.QUEUED
            assert ConversationEvent.objects.filter(
                conversation=chat, kind=EventKind.QUEUED
            ).exists()
