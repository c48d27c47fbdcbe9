"""Close, transfer, update and reassignment, and how each one sets routing going again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from conversations.messaging import InboundMessage, delivery_record
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    DockEvent,
    EventKind,
    Rule,
)
from conversations.services import member_update
from presence.models import AgentPresence, PresenceStatus
from presence.services import presence_set
from routing.router import reassign_offline, route_queue, sweep
from routing.services import conversation_close, conversation_transfer, conversation_update
from tests.factories import ConversationFactory, MembershipFactory


def refresh(*objs):
    for obj in objs:
        obj.refresh_from_db()


def events_of(member, event_type):
    return list(DockEvent.objects.filter(membership=member, type=event_type))


def test_closing_frees_the_place_and_the_oldest_waiting_chat_drains_into_it(
    desk, django_capture_on_commit_callbacks
):
    agent = desk.agent(max_open=1)
    (open_chat,) = desk.open_chats(agent, 1)
    first, second = desk.chat(ago=20), desk.chat(ago=10)
    route_queue(organization_id=desk.org.pk)

    with django_capture_on_commit_callbacks(execute=True):
        conversation_close(conversation=open_chat, actor=agent, outcome="resolved")

    refresh(open_chat, first, second)
    assert open_chat.status == ConversationStatus.CLOSED
    assert open_chat.outcome == "resolved"
    assert open_chat.agent == agent  # kept: the customer's last agent, for stickiness
    closed = ConversationEvent.objects.get(conversation=open_chat, kind=EventKind.CLOSED)
    assert closed.rule == Rule.AGENT
    assert first.agent == agent
    assert second.status == ConversationStatus.QUEUED
    drained = ConversationEvent.objects.get(conversation=first, kind=EventKind.ASSIGNED)
    assert drained.rule == Rule.DRAIN
    for member in (agent, desk.supervisor):
        assert [e.data["id"] for e in events_of(member, "conversation.closed")] == [open_chat.pk]


def test_only_the_assigned_agent_or_a_supervisor_may_close(desk):
    agent, colleague = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    with pytest.raises(PermissionDenied):
        conversation_close(conversation=chat, actor=colleague, outcome="spam")
    conversation_close(conversation=chat, actor=desk.supervisor, outcome="spam")

    assert ConversationEvent.objects.get(conversation=chat, kind=EventKind.CLOSED).rule == (
        Rule.SUPERVISOR
    )
    with pytest.raises(ValidationError):
        conversation_close(conversation=chat, actor=desk.supervisor, outcome="again")


def test_a_transfer_to_an_eligible_colleague_moves_the_chat_and_tells_both_docks(desk):
    agent, colleague = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague, note="needs a refund")

    refresh(chat)
    assert chat.agent == colleague
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert (event.rule, event.from_agent, event.to_agent) == (Rule.TRANSFER, agent, colleague)
    assert event.note == "needs a refund"
    for member in (agent, colleague, desk.supervisor):
        (pushed,) = events_of(member, "conversation.transferred")
        assert pushed.data["agent"] == colleague.pk


@pytest.mark.parametrize(
    "colleague_kwargs",
    [
        {"presence": PresenceStatus.OFFLINE},
        {"languages": ["es"]},
        {"projects": []},
    ],
    ids=["offline", "wrong-language", "other-project"],
)
def test_an_agent_cannot_transfer_to_a_colleague_who_is_not_eligible(desk, colleague_kwargs):
    agent, colleague = desk.agent(), desk.agent(**colleague_kwargs)
    (chat,) = desk.open_chats(agent, 1)

    with pytest.raises(ValidationError):
        conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)

    refresh(chat)
    assert chat.agent == agent


def test_a_supervisor_may_assign_over_capacity_on_purpose_and_it_is_recorded(desk):
    agent = desk.agent()
    full = desk.agent(max_open=1)
    desk.open_chats(full, 1)
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=full)

    refresh(chat)
    assert chat.agent == full
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert event.rule == Rule.SUPERVISOR
    assert event.actor == desk.supervisor
    assert event.data["over_capacity"] is True
    assert event.data["open"] == 1 and event.data["max_open"] == 1


def test_a_supervisor_may_hand_a_queued_chat_to_a_named_agent(desk):
    agent = desk.agent()
    chat = desk.chat()

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=agent)

    refresh(chat)
    assert chat.agent == agent
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
    assert event.rule == Rule.SUPERVISOR
    assert events_of(agent, "conversation.assigned")


def test_a_transfer_back_to_the_queue_with_a_skill_finds_someone_who_has_it(
    desk, django_capture_on_commit_callbacks
):
    agent = desk.agent(skills=[])
    expert = desk.agent(skills=["insurance"], max_open=5)
    desk.open_chats(expert, 4)
    (chat,) = desk.open_chats(agent, 1)

    with django_capture_on_commit_callbacks(execute=True):
        conversation_transfer(conversation=chat, actor=agent, skill="Insurance")

    refresh(chat)
    assert chat.required_skills == ["insurance"]
    assert chat.agent == expert
    transferred = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert (transferred.rule, transferred.from_agent, transferred.to_agent) == (
        Rule.TRANSFER,
        agent,
        None,
    )
    (dropped,) = events_of(agent, "conversation.transferred")
    assert dropped.data["status"] == "queued"


def test_a_colleague_cannot_transfer_a_chat_that_is_not_theirs(desk):
    agent, colleague = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    with pytest.raises(PermissionDenied):
        conversation_transfer(conversation=chat, actor=colleague, to_agent=colleague)


def test_a_closed_chat_cannot_be_transferred(desk):
    agent, colleague = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    conversation_close(conversation=chat, actor=agent, outcome="done")

    with pytest.raises(ValidationError):
        conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)


def test_changing_a_queued_chats_needs_lets_routing_place_it(
    desk, django_capture_on_commit_callbacks
):
    agent = desk.agent(languages=["es"])
    chat = desk.chat(language="en", required_skills=["vip"])
    route_queue(organization_id=desk.org.pk)

    with django_capture_on_commit_callbacks(execute=True):
        conversation_update(
            conversation=chat, actor=desk.supervisor, language="ES", required_skills=[]
        )

    refresh(chat)
    assert chat.agent == agent
    updated = ConversationEvent.objects.get(conversation=chat, kind=EventKind.UPDATED)
    assert updated.data["language"] == ["en", "es"]
    assert events_of(desk.supervisor, "conversation.updated")


def test_an_update_of_something_else_is_refused(desk):
    chat = desk.chat()
    with pytest.raises(ValidationError):
        conversation_update(conversation=chat, actor=desk.supervisor, status="closed")
    with pytest.raises(ValidationError):
        conversation_update(conversation=chat, actor=desk.supervisor, priority="high")


def test_raising_max_open_lets_waiting_chats_through(desk, django_capture_on_commit_callbacks):
    agent = desk.agent(max_open=1)
    desk.open_chats(agent, 1)
    chat = desk.chat()
    route_queue(organization_id=desk.org.pk)

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=agent, max_open=2)

    refresh(chat)
    assert chat.agent == agent
    assert ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED).rule == (
        Rule.DRAIN
    )


def test_an_agent_turning_available_receives_waiting_chats(
    desk, django_capture_on_commit_callbacks
):
    agent = desk.agent(presence=PresenceStatus.BUSY)
    chat = desk.chat()
    route_queue(organization_id=desk.org.pk)

    with django_capture_on_commit_callbacks(execute=True):
        presence_set(member=agent, status=PresenceStatus.AVAILABLE, source="dock")

    refresh(chat)
    assert chat.agent == agent


def test_new_skills_let_waiting_chats_through(desk, django_capture_on_commit_callbacks):
    agent = desk.agent(skills=[])
    chat = desk.chat(required_skills=["mortgages"])
    route_queue(organization_id=desk.org.pk)

    with django_capture_on_commit_callbacks(execute=True):
        member_update(member=agent, skills=["Mortgages"])

    refresh(chat)
    assert chat.agent == agent


def go_offline(agent, seconds_ago):
    AgentPresence.objects.filter(membership=agent).update(
        status=PresenceStatus.OFFLINE, since=timezone.now() - timedelta(seconds=seconds_ago)
    )


def test_the_chats_of_an_agent_offline_too_long_go_to_others_with_a_note(
    desk, settings, django_capture_on_commit_callbacks
):
    settings.ROUTING_OFFLINE_REASSIGN_SECONDS = 120
    gone, colleague = desk.agent(), desk.agent(max_open=5)
    chats = desk.open_chats(gone, 2)
    go_offline(gone, 121)

    with django_capture_on_commit_callbacks(execute=True):
        assert reassign_offline() == 2

    for chat in chats:
        refresh(chat)
        assert chat.agent == colleague
        reassigned = ConversationEvent.objects.get(conversation=chat, kind=EventKind.REASSIGNED)
        assert reassigned.rule == Rule.REASSIGNED_AFTER_OFFLINE
        assert reassigned.from_agent == gone
        assert "went offline" in reassigned.note
        assert "already said" in reassigned.note
    dropped = events_of(gone, "conversation.transferred")
    assert sorted(e.data["id"] for e in dropped) == sorted(c.pk for c in chats)


def test_chats_of_an_agent_offline_too_long_wait_rather_than_return_to_them(desk, settings):
    settings.ROUTING_OFFLINE_REASSIGN_SECONDS = 120
    gone = desk.agent()
    (chat,) = desk.open_chats(gone, 1)
    go_offline(gone, 121)

    reassign_offline()
    route_queue(organization_id=desk.org.pk)

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED
    assert chat.agent is None


@pytest.mark.parametrize("status", [PresenceStatus.OFFLINE, PresenceStatus.BUSY])
def test_an_agent_offline_briefly_or_busy_keeps_their_chats(desk, settings, status):
    settings.ROUTING_OFFLINE_REASSIGN_SECONDS = 120
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    AgentPresence.objects.filter(membership=agent).update(
        status=status, since=timezone.now() - timedelta(seconds=60 if status == "offline" else 999)
    )

    assert reassign_offline() == 0

    refresh(chat)
    assert chat.agent == agent


def test_a_supervisor_may_take_a_chat_from_a_busy_agent_back_to_the_queue(
    desk, django_capture_on_commit_callbacks
):
    agent = desk.agent(presence=PresenceStatus.BUSY)
    (chat,) = desk.open_chats(agent, 1)

    with django_capture_on_commit_callbacks(execute=True):
        conversation_transfer(conversation=chat, actor=desk.supervisor, note="customer waiting")

    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert (event.rule, event.actor, event.from_agent) == (Rule.SUPERVISOR, desk.supervisor, agent)
    assert event.note == "customer waiting"
    with pytest.raises(ValidationError):
        conversation_transfer(conversation=chat, actor=desk.supervisor, skill="billing")


def test_the_sweep_routes_chats_whose_trigger_was_lost(desk):
    agent = desk.agent()
    other_desk_chat = ConversationFactory()
    MembershipFactory(organization=other_desk_chat.organization, projects=[other_desk_chat.project])
    chat = desk.chat()  # arrived, but its routing request never reached a worker

    sweep()

    refresh(chat, other_desk_chat)
    assert chat.agent == agent
    assert other_desk_chat.status == ConversationStatus.ASSIGNED


def test_a_chat_arriving_being_assigned_and_closed_is_a_line_each_on_the_console(
    desk, caplog, django_capture_on_commit_callbacks
):
    agent = desk.agent()
    caplog.set_level("INFO", logger="cxgear.activity")

    with django_capture_on_commit_callbacks(execute=True):
        delivery_record(
            channel=desk.channel,
            messages=[
                InboundMessage(
                    wamid="wamid.CONSOLE1",
                    wa_id="447700900777",
                    user_id=None,
                    profile_name="Maria Lopez",
                    sent_at=timezone.now(),
                    type="text",
                    text="Hello",
                )
            ],
        )
    chat = Conversation.objects.get(contact__wa_id="447700900777")
    with django_capture_on_commit_callbacks(execute=True):
        conversation_close(conversation=chat, actor=agent, outcome="resolved")

    assert [r.getMessage() for r in caplog.records if r.name == "cxgear.activity"] == [
        f"chat {chat.pk} arrived from Maria Lopez (447700900777)",
        f"chat {chat.pk} assigned to {agent.user.email} (least-loaded)",
        f"chat {chat.pk} closed by {agent.user.email}: resolved",
    ]


def test_a_change_rolled_back_leaves_no_line_on_the_console(desk, caplog):
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    caplog.set_level("INFO", logger="cxgear.activity")

    # The test's own transaction never commits: neither does the close.
    conversation_close(conversation=chat, actor=agent, outcome="resolved")

    assert not [r for r in caplog.records if r.name == "cxgear.activity"]
