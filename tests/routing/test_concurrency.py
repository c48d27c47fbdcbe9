"""Routing under real parallelism on PostgreSQL: several workers, each with its own
database connection, share one queue."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Rule,
)
from routing.router import route_queue
from routing.services import conversation_close, conversation_transfer
from tests.factories import ConversationFactory

WORKERS = 4
AGENTS = 20
ROOM = 3
CHATS = 200
CLOSES = 20


def in_parallel(jobs: list[Callable[[], None]]) -> None:
    """Run each job in its own thread (and database connection), all starting at once."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def open_per_agent(agents) -> Counter[int]:
    return Counter(
        Conversation.objects.filter(
            status=ConversationStatus.ASSIGNED, agent__in=agents
        ).values_list("agent_id", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_two_hundred_chats_at_twenty_agents_with_room_for_three_fill_every_place_in_order(desk):
    agents = [desk.agent(max_open=ROOM) for _ in range(AGENTS)]
    base = timezone.now() - timedelta(minutes=5)
    arrivals = [
        ConversationFactory(channel=desk.channel, queued_at=base + timedelta(milliseconds=i)).pk
        for i in range(CHATS)
    ]

    in_parallel([lambda: route_queue(organization_id=desk.org.pk)] * WORKERS)

    assigned = Conversation.objects.filter(status=ConversationStatus.ASSIGNED)
    assert assigned.count() == AGENTS * ROOM
    assert set(open_per_agent(agents).values()) == {ROOM}
    # The first 60 arrivals were served, in arrival order; the rest wait in arrival order.
    assert list(assigned.order_by("assigned_at").values_list("pk", flat=True)) == arrivals[:60]
    queued = Conversation.objects.filter(status=ConversationStatus.QUEUED)
    assert (
        list(queued.order_by("-priority", "queued_at").values_list("pk", flat=True))
        == (arrivals[60:])
    )
    assert ConversationEvent.objects.filter(kind=EventKind.ASSIGNED).count() == 60
    assert desk.miscounted() == {}

    # Agents close chats at the same time; each close routes the queue in its worker.
    closing = list(assigned.select_related("agent")[:CLOSES])
    batches = [closing[i::WORKERS] for i in range(WORKERS)]

    def close_all(batch: list[Conversation]) -> Callable[[], None]:
        def job() -> None:
            for chat in batch:
                assert chat.agent is not None
                conversation_close(conversation=chat, actor=chat.agent, outcome="resolved")

        return job

    in_parallel([close_all(batch) for batch in batches])

    drained = arrivals[60 : 60 + CLOSES]
    assert set(open_per_agent(agents).values()) == {ROOM}
    assert (
        list(
            Conversation.objects.filter(pk__in=drained)
            .order_by("assigned_at")
            .values_list("pk", flat=True)
        )
        == drained
    )
    assert set(
        ConversationEvent.objects.filter(
            conversation_id__in=drained, kind=EventKind.ASSIGNED
        ).values_list("rule", flat=True)
    ) == {Rule.DRAIN}
    assert (
        list(queued.order_by("-priority", "queued_at").values_list("pk", flat=True))
        == (arrivals[60 + CLOSES :])
    )
    assert desk.miscounted() == {}


@pytest.mark.django_db(transaction=True)
def test_transfers_both_ways_between_two_agents_at_once_all_land_and_count_true(desk):
    """Each transfer writes both agents' rows: taken in id order, transfers in opposite
    directions never deadlock."""
    first, second = desk.agent(max_open=20), desk.agent(max_open=20)
    moves = [(chat, second) for chat in desk.open_chats(first, 10)] + [
        (chat, first) for chat in desk.open_chats(second, 10)
    ]
    batches = [moves[i::WORKERS] for i in range(WORKERS)]

    def transfer_all(batch: list[tuple[Conversation, Membership]]) -> Callable[[], None]:
        def job() -> None:
            for chat, to in batch:
                conversation_transfer(conversation=chat, actor=desk.supervisor, to_agent=to)

        return job

    in_parallel([transfer_all(batch) for batch in batches])

    assert open_per_agent([first, second]) == {first.pk: 10, second.pk: 10}
    assert ConversationEvent.objects.filter(kind=EventKind.TRANSFERRED).count() == 20
    assert desk.miscounted() == {}


@pytest.mark.django_db(transaction=True)
def test_chats_waiting_for_a_full_colleague_never_put_her_over_capacity(desk):
    """Agents hand chats to a full colleague at once; she frees two places while passes run
    in several workers: exactly two of the chats land with her, the others keep waiting for
    her, and every counter stays true."""
    from routing.tasks import _walk

    bea = desk.agent(max_open=2)
    hers = desk.open_chats(bea, 2)
    agents = [desk.agent(max_open=1) for _ in range(8)]
    handed = [(desk.open_chats(agent, 1)[0], agent) for agent in agents]

    def hand(chat: Conversation, agent: Membership) -> Callable[[], None]:
        def job() -> None:
            conversation_transfer(conversation=chat, actor=agent, to_agent=bea)

        return job

    in_parallel([hand(chat, agent) for chat, agent in handed])
    waiting = list(
        Conversation.objects.filter(waiting_for=bea)
        .order_by("waiting_until", "id")
        .values_list("pk", flat=True)
    )
    assert len(waiting) == 8

    def close(chat: Conversation) -> Callable[[], None]:
        def job() -> None:
            conversation_close(conversation=chat, actor=bea, outcome="done")

        return job

    in_parallel([close(chat) for chat in hers] + [lambda: _walk(desk.org.pk)] * (WORKERS - 2))
    _walk(desk.org.pk)

    landed = Conversation.objects.filter(pk__in=waiting, agent=bea, status="assigned")
    assert open_per_agent([bea])[bea.pk] == 2
    assert landed.count() == 2
    assert Conversation.objects.filter(pk__in=waiting, waiting_for=bea).count() == 6
    assert desk.miscounted() == {}
