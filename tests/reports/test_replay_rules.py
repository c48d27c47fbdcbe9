"""The replay orders agents and chats as routing's queries do: the same members and
chats sorted by the replay's keys and by the database come out in the same order."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from conversations.models import Channel, Conversation, Membership
from reports.replay import Replayed, SimulatedAgent, queue_key
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 10, 12, tzinfo=UTC)


def test_agents_come_in_routings_load_order():
    rng = random.Random(7)
    channel = cast(Channel, ChannelFactory())
    members = []
    for _ in range(12):
        max_open = rng.choice([2, 3, 4])
        member = cast(
            Membership, MembershipFactory(organization=channel.organization, max_open=max_open)
        )
        last = None if rng.random() < 0.3 else NOON - timedelta(minutes=rng.randrange(5))
        Membership.objects.filter(pk=member.pk).update(
            open_conversations=rng.randrange(max_open + 1), last_assigned_at=last
        )
        members.append(member)
    in_database = list(
        Membership.objects.filter(organization=channel.organization)
        .by_load()
        .values_list("pk", flat=True)
    )

    replayed = [
        SimulatedAgent(
            member=m,
            index=m.pk,
            open=m.open_conversations,
            last_assigned=m.last_assigned_at.timestamp() if m.last_assigned_at else None,
        )
        for m in Membership.objects.filter(organization=channel.organization).order_by("?")
    ]

    assert [a.index for a in sorted(replayed, key=SimulatedAgent.load_key)] == in_database


def test_chats_come_in_routings_queue_order():
    rng = random.Random(8)
    channel = cast(Channel, ChannelFactory())
    for _ in range(15):
        ConversationFactory(
            channel=channel,
            priority=rng.choice([0, 0, 1, 5]),
            queued_at=NOON + timedelta(seconds=rng.randrange(4)),
        )
    in_database = list(Conversation.objects.queued().in_queue_order().values_list("pk", flat=True))

    replayed = [
        Replayed(chat=c, arrival=0.0, handle=0.0, queued_at=c.queued_at.timestamp())
        for c in Conversation.objects.order_by("?")
    ]

    assert [c.id for c in sorted(replayed, key=queue_key)] == in_database
