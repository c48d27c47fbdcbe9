"""``Membership.open_conversations``, the counter routing reads instead of counting, stays
equal to the member's assigned chats through every path that moves a chat."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from conversations.models import ConversationStatus, Membership
from presence.models import AgentPresence, PresenceStatus
from routing.router import reassign_offline, route_queue
from routing.services import conversation_close, conversation_transfer


def open_of(*members: Membership) -> list[int]:
    return [Membership.objects.get(pk=m.pk).open_conversations for m in members]


def test_routing_counts_each_assignment_on_its_agent(desk):
    first, second = desk.agent(max_open=2), desk.agent(max_open=2)
    desk.open_chats(second, 1)
    for i in range(4):
        desk.chat(ago=10 - i)

    assert route_queue(organization_id=desk.org.pk) == 3

    assert open_of(first, second) == [2, 2]
    assert desk.miscounted() == {}


def test_a_transfer_moves_one_from_the_old_agent_to_the_new(desk):
    agent, colleague = desk.agent(), desk.agent()
    chat, _ = desk.open_chats(agent, 2)

    conversation_transfer(conversation=chat, actor=agent, to_agent=colleague)

    assert open_of(agent, colleague) == [1, 1]
    assert desk.miscounted() == {}


def test_a_transfer_to_a_colleague_with_a_lower_id_counts_the_same(desk):
    colleague, agent = desk.agent(), desk.agent()
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=colleague)

    assert open_of(agent, colleague) == [0, 1]
    assert desk.miscounted() == {}


def test_a_supervisor_handing_over_a_queued_chat_counts_it_once(desk):
    agent = desk.agent()
    chat = desk.chat()

    conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=agent)

    assert open_of(agent) == [1]
    assert desk.miscounted() == {}


def test_back_to_the_queue_takes_one_off_the_agent(desk):
    agent = desk.agent()
    # The colleague has no room: the chat stays queued.
    colleague = desk.agent(max_open=0)
    (chat,) = desk.open_chats(agent, 1)

    conversation_transfer(conversation=chat, actor=desk.supervisor, skill="billing")

    chat.refresh_from_db()
    assert chat.status == ConversationStatus.QUEUED
    assert open_of(agent, colleague) == [0, 0]
    assert desk.miscounted() == {}


def test_reassignment_after_offline_moves_the_count_to_whoever_takes_the_chats(
    desk, settings, django_capture_on_commit_callbacks
):
    settings.ROUTING_OFFLINE_REASSIGN_SECONDS = 120
    gone, colleague = desk.agent(), desk.agent(max_open=5)
    desk.open_chats(gone, 2)
    AgentPresence.objects.filter(membership=gone).update(
        status=PresenceStatus.OFFLINE, since=timezone.now() - timedelta(seconds=121)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert reassign_offline() == 2

    assert open_of(gone, colleague) == [0, 2]
    assert desk.miscounted() == {}


def test_closing_takes_one_off_the_agent_and_a_queued_chat_off_nobody(desk):
    agent = desk.agent(max_open=0)
    open_chat, _ = desk.open_chats(agent, 2)
    queued = desk.chat()

    conversation_close(conversation=open_chat, actor=agent, outcome="resolved")
    conversation_close(conversation=queued, actor=desk.supervisor, outcome="spam")

    assert open_of(agent) == [1]
    assert desk.miscounted() == {}


def test_saving_a_member_read_before_an_assignment_keeps_the_count(desk):
    agent = desk.agent()
    stale = Membership.objects.get(pk=agent.pk)
    desk.open_chats(agent, 2)

    stale.max_open = 5
    stale.save()

    assert open_of(agent) == [2]
    assert Membership.objects.get(pk=agent.pk).max_open == 5
