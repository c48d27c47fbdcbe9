"""A transfer to a colleague who has no room: an agent's waits for them, a supervisor's
lands over their capacity, and every path is in the thread's audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    DockEvent,
    EventKind,
    Rule,
)
from presence.models import PresenceSource, PresenceStatus
from presence.services import presence_set
from routing import holds
from routing.services import conversation_close, conversation_transfer
from routing.tasks import _walk


def refresh(*objs):
    for obj in objs:
        obj.refresh_from_db()


def a_pass(desk):
    """What the routing task does when asked: the waiting transfers first, then the queue."""
    _walk(desk.org.pk)


@pytest.fixture
def full_colleague(desk):
    colleague = desk.agent(max_open=1, user__name="Bea Busy")
    (its_chat,) = desk.open_chats(colleague, 1)
    return colleague, its_chat


def test_an_agents_transfer_to_a_full_colleague_waits_for_them_and_not_for_anyone(
    desk, full_colleague
):
    colleague, _ = full_colleague
    agent, idle = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague, note="refund")
    a_pass(desk)

    refresh(chat, agent, colleague, idle)
    assert chat.status == ConversationStatus.QUEUED
    assert chat.waiting_for == colleague
    assert chat.waiting_until > timezone.now()
    assert (agent.open_conversations, colleague.open_conversations) == (0, 1)
    assert idle.open_conversations == 0  # the chat waits for the colleague, not for anyone
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert (event.rule, event.actor, event.from_agent, event.to_agent) == (
        Rule.TRANSFER,
        agent,
        agent,
        None,
    )
    assert event.note == "refund"
    assert event.data["waiting_for"] == colleague.pk
    (dropped,) = DockEvent.objects.filter(membership=agent, type="conversation.transferred")
    assert dropped.data["status"] == "queued"
    assert desk.miscounted() == {}


def test_the_waiting_chat_lands_with_the_colleague_when_they_free_room(desk, full_colleague):
    colleague, its_chat = full_colleague
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    # An older chat in the queue the colleague could take: the freed place is still the
    # transferred chat's.
    older = desk.chat(ago=600)
    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)

    conversation_close(conversation=its_chat, actor=colleague, outcome="done")
    a_pass(desk)

    refresh(chat, older, colleague)
    assert (chat.status, chat.agent) == (ConversationStatus.ASSIGNED, colleague)
    assert (chat.waiting_for, chat.waiting_until) == (None, None)
    assert older.agent != colleague
    landed = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
    assert (landed.rule, landed.to_agent) == (Rule.TRANSFER, colleague)
    assert "Bea Busy" in landed.note
    assert DockEvent.objects.filter(
        membership=colleague, type="conversation.assigned", data__id=chat.pk
    ).exists()
    assert colleague.open_conversations == 1
    assert desk.miscounted() == {}


def test_a_transfer_to_a_busy_colleague_lands_when_they_are_available_again(desk):
    colleague = desk.agent(presence=PresenceStatus.BUSY)
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)
    a_pass(desk)
    refresh(chat)
    assert chat.status == ConversationStatus.QUEUED

    presence_set(member=colleague, status=PresenceStatus.AVAILABLE, source=PresenceSource.DOCK)
    a_pass(desk)

    refresh(chat)
    assert chat.agent == colleague


def test_a_waiting_chat_goes_back_to_the_queue_for_anyone_when_the_wait_runs_out(
    desk, full_colleague, settings
):
    settings.ROUTING_TRANSFER_WAIT_SECONDS = 90
    colleague, _ = full_colleague
    agent, idle = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)
    Conversation.objects.filter(pk=chat.pk).update(
        waiting_until=timezone.now() - timedelta(seconds=1)
    )

    holds.holds_sweep()
    a_pass(desk)

    refresh(chat)
    assert chat.agent in (agent, idle)
    assert chat.status == ConversationStatus.ASSIGNED
    assert chat.waiting_for is None
    ended = ConversationEvent.objects.get(conversation=chat, kind=EventKind.QUEUED)
    assert ended.data["reason"] == holds.WAIT_ENDED_REASON
    assert ended.note == "Bea Busy had no room within 90 s: back to the queue for anyone."
    assert desk.miscounted() == {}


def test_an_agent_cannot_force_a_chat_on_a_colleague_over_their_capacity(desk, full_colleague):
    colleague, _ = full_colleague
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    with pytest.raises(PermissionDenied):
        conversation_transfer(conversation=chat, actor=agent, to_agent=colleague, wait=False)

    refresh(chat, colleague)
    assert (chat.status, chat.agent) == (ConversationStatus.ASSIGNED, agent)
    assert colleague.open_conversations == 1
    assert not ConversationEvent.objects.filter(
        conversation=chat, kind=EventKind.TRANSFERRED
    ).exists()


def test_a_supervisors_transfer_to_a_full_colleague_lands_at_once_over_capacity(
    desk, full_colleague
):
    colleague, _ = full_colleague
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=colleague)

    refresh(chat, colleague)
    assert chat.agent == colleague
    assert colleague.open_conversations == 2
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert (event.rule, event.actor) == (Rule.SUPERVISOR, desk.supervisor)
    assert event.data["over_capacity"] is True


def test_a_supervisor_may_choose_to_let_the_chat_wait_instead(desk, full_colleague):
    colleague, _ = full_colleague
    agent = desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=colleague, wait=True)

    refresh(chat)
    assert (chat.status, chat.waiting_for) == (ConversationStatus.QUEUED, colleague)
    event = ConversationEvent.objects.get(conversation=chat, kind=EventKind.TRANSFERRED)
    assert event.rule == Rule.SUPERVISOR


def test_whoever_moves_a_waiting_chat_ends_its_wait(desk, full_colleague):
    colleague, _ = full_colleague
    agent, other = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)
    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=other)

    refresh(chat)
    assert (chat.agent, chat.waiting_for, chat.waiting_until) == (other, None, None)
