"""Events published together: each member's are numbered in the order given and reach
the member's group in that order; a recording pass publishes all of its messages' events
in one statement."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import messaging, realtime
from conversations.models import Direction, DockEvent, MessageStatus, Role
from conversations.realtime import Event
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)


def stream(member_id: int) -> list[tuple[int, str, object]]:
    return [
        (e.seq, e.type, e.data.get("n"))
        for e in DockEvent.objects.filter(membership_id=member_id).order_by("seq")
    ]


@pytest.mark.django_db
def test_events_published_together_are_numbered_in_order_and_reach_each_member_once():
    agent = MembershipFactory()
    supervisor = MembershipFactory(organization=agent.organization, role=Role.SUPERVISOR)
    other = MembershipFactory(organization=agent.organization)
    realtime.publish("conversation.updated", {"n": 0}, to=[agent.pk])

    with transaction.atomic():
        realtime.publish_all(
            [
                Event(
                    "conversation.assigned",
                    {"n": 1},
                    (agent.pk, supervisor.pk),
                    agent.organization_id,
                ),
                Event("message.created", {"n": 2}, (agent.pk,)),
                Event("message.created", {"n": 3}, (other.pk, agent.pk)),
            ]
        )

    assert stream(agent.pk) == [
        (1, "conversation.updated", 0),
        (2, "conversation.assigned", 1),
        (3, "message.created", 2),
        (4, "message.created", 3),
    ]
    # Named and a supervisor of the organization: the event once.
    assert stream(supervisor.pk) == [(1, "conversation.assigned", 1)]
    assert stream(other.pk) == [(1, "message.created", 3)]
    assert realtime.last_seq(membership_id=agent.pk) == 4


@pytest.mark.django_db(transaction=True)
def test_a_members_events_of_one_commit_reach_their_group_in_order_in_few_messages():
    agent = MembershipFactory()
    layer = get_channel_layer()
    name = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(realtime.member_group(agent.pk), name)

    with transaction.atomic():
        realtime.publish_all(Event("message.created", {"n": n}, (agent.pk,)) for n in range(120))

    async def take() -> list[dict]:
        # One event loop for all: channels-redis buffers what it reads per loop.
        messages: list[dict] = []
        while sum(len(m.get("events", [None])) for m in messages) < 120:
            messages.append(await layer.receive(name))
        return messages

    messages = async_to_sync(take)()
    received = [frame for m in messages for frame in m.get("events") or [m["event"]]]
    assert [frame["seq"] for frame in received] == list(range(1, 121))
    assert [frame["data"]["n"] for frame in received] == list(range(120))
    assert len(messages) == 3  # realtime.FRAMES_PER_MESSAGE at a time


@pytest.mark.django_db
def test_a_delivery_of_many_messages_publishes_their_events_in_one_statement():
    agent = MembershipFactory()
    channel = ChannelFactory(organization=agent.organization)
    conversation = ConversationFactory(channel=channel, agent=agent, contact__wa_id="447000111")
    sent = timezone.now() - timedelta(minutes=1)
    texts = [f"part {n}" for n in range(12)]

    with CaptureQueriesContext(connection) as queries:
        messaging.delivery_record(
            channel=channel,
            messages=[
                messaging.InboundMessage(
                    wamid=f"wamid.{uuid4().hex}",
                    wa_id="447000111",
                    user_id=None,
                    profile_name="Ada",
                    sent_at=sent + timedelta(seconds=n),
                    type="text",
                    text=text,
                )
                for n, text in enumerate(texts)
            ],
        )

    events = list(DockEvent.objects.filter(membership_id=agent.pk).order_by("seq"))
    assert [e.type for e in events] == ["message.created"] * 12 + ["conversation.updated"]
    assert [e.data["text"] for e in events[:12]] == texts
    assert events[-1].data["id"] == conversation.pk
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 13))
    stored = [q for q in queries.captured_queries if DockEvent._meta.db_table in q["sql"]]
    assert len(stored) == 1


@pytest.mark.django_db
def test_a_delivery_of_statuses_publishes_them_after_its_writes_in_one_statement():
    agent = MembershipFactory()
    conversation = ConversationFactory(agent=agent, organization=agent.organization)
    sent = [
        MessageFactory(
            conversation=conversation,
            direction=Direction.OUT,
            status=MessageStatus.SENT,
            sender=agent,
        )
        for _ in range(3)
    ]
    at = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        messaging.delivery_record(
            channel=conversation.channel,
            messages=[],
            statuses=[
                messaging.StatusUpdate(wamid=m.wamid, status=status, at=at + timedelta(seconds=n))
                for n, status in enumerate([MessageStatus.DELIVERED, MessageStatus.READ])
                for m in sent
            ],
        )

    events = list(DockEvent.objects.filter(membership_id=agent.pk).order_by("seq"))
    assert [(e.data["id"], e.data["status"]) for e in events] == [
        (m.pk, MessageStatus.READ) for m in sorted(sent, key=lambda m: m.pk)
    ]
    statements = [q["sql"] for q in queries.captured_queries]
    stored = [i for i, sql in enumerate(statements) if DockEvent._meta.db_table in sql]
    assert len(stored) == 1
    assert stored[0] == max(i for i, sql in enumerate(statements) if sql.startswith("UPDATE")) + 1
