"""Agent load and queue waiting times, as supervisors see them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Direction, MessageStatus, Role
from presence import selectors
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    supervisor = MembershipFactory(role=Role.SUPERVISOR, max_open=2)
    channel = ChannelFactory(organization=supervisor.organization)
    return supervisor, channel


def load_of(supervisor, member):
    return next(a for a in selectors.agent_loads(member=supervisor) if a.member == member)


def test_an_agents_load_counts_their_open_chats_only(team):
    supervisor, channel = team
    agent = MembershipFactory(organization=supervisor.organization, max_open=3)
    ConversationFactory(channel=channel, agent=agent)
    ConversationFactory(channel=channel, agent=agent, status="closed")
    ConversationFactory(channel=channel)

    load = load_of(supervisor, agent)

    assert (load.open_count, load.max_open) == (1, 3)
    assert not load.overloaded


def test_the_oldest_unanswered_chat_counts_from_the_first_message_after_our_last_reply(team):
    supervisor, channel = team
    agent = MembershipFactory(organization=supervisor.organization)
    now = timezone.now()
    answered = ConversationFactory(channel=channel, agent=agent, last_inbound_at=None)
    MessageFactory(conversation=answered, sent_at=now - timedelta(minutes=30))
    MessageFactory(
        conversation=answered,
        direction=Direction.OUT,
        status=MessageStatus.SENT,
        wamid=None,
        sent_at=now - timedelta(minutes=29),
    )
    waiting = ConversationFactory(channel=channel, agent=agent, last_inbound_at=None)
    MessageFactory(
        conversation=waiting,
        direction=Direction.OUT,
        status=MessageStatus.SENT,
        wamid=None,
        sent_at=now - timedelta(minutes=20),
    )
    MessageFactory(conversation=waiting, sent_at=now - timedelta(minutes=10))
    MessageFactory(conversation=waiting, sent_at=now - timedelta(minutes=2))

    load = load_of(supervisor, agent)

    assert load.oldest_waiting_conversation == waiting.pk
    assert 599 <= load.oldest_waiting_seconds <= 660
    assert load.overloaded  # ten minutes without an answer
    # ...and the board says why: a waiting customer, not too many chats.
    assert load.customer_waiting
    assert not load.over_capacity


def test_an_agent_over_their_maximum_is_overloaded_over_capacity(team):
    supervisor, channel = team
    agent = MembershipFactory(organization=supervisor.organization, max_open=1)
    for _ in range(2):
        ConversationFactory(channel=channel, agent=agent, last_inbound_at=None)

    load = load_of(supervisor, agent)

    assert load.open_count == 2
    assert load.oldest_waiting_seconds is None
    assert load.overloaded
    assert load.over_capacity
    assert not load.customer_waiting


def test_admins_are_not_listed_as_agents(team):
    supervisor, _ = team
    admin = MembershipFactory(organization=supervisor.organization, role=Role.ADMIN)

    members = [load.member for load in selectors.agent_loads(member=supervisor)]

    assert supervisor in members
    assert admin not in members


def test_the_queue_lists_the_longest_waiting_first(team):
    supervisor, channel = team
    now = timezone.now()
    recent = ConversationFactory(channel=channel, queued_at=now - timedelta(minutes=1))
    oldest = ConversationFactory(channel=channel, queued_at=now - timedelta(minutes=9))
    ConversationFactory()  # another organization's

    assert list(selectors.queued_conversations(member=supervisor)) == [oldest, recent]
