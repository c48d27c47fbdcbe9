"""Routing: a burst of 1,000 new chats at 100 agents with room for 500 of them.

The Celery worker (two processes, as deployed) is asked to route the burst the way the
webhook asks it. What counts is that every place is filled, none past an agent's
``max_open`` and no chat twice, while both processes decide side by side. The time
until the last place is filled is printed beside it, read from the assignments' own
timestamps; the worker takes no task while the burst is written, so the clock starts
when it may. A decision's latency against a same-run baseline is
``bench/routing_decision.py``'s, at a larger scale."""

from __future__ import annotations

import time
from typing import Any

import redis

from bench.common import Check, Figure, analyze, ms, worker_consuming
from bench.context import Context

AGENTS = 100
MAX_OPEN = 5
BURST = 1000
PLACES = AGENTS * MAX_OPEN


def over_capacity(organization_id: int) -> tuple[int, int]:
    """Agents holding more assigned chats than their ``max_open``, and chats assigned more
    than once (by their audit entries)."""
    from django.db.models import Count, F, Q

    from conversations.models import ConversationEvent, ConversationStatus, EventKind, Membership

    over = (
        Membership.objects.filter(organization_id=organization_id)
        .annotate(
            held=Count("conversations", filter=Q(conversations__status=ConversationStatus.ASSIGNED))
        )
        .filter(held__gt=F("max_open"))
        .count()
    )
    twice = (
        ConversationEvent.objects.filter(
            conversation__organization_id=organization_id, kind=EventKind.ASSIGNED
        )
        .values("conversation_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    return over, twice


def _assigned(organization_id: int) -> dict[str, Any]:
    from django.db.models import Count, Max, Min

    from conversations.models import Conversation, ConversationStatus

    return Conversation.objects.filter(
        organization_id=organization_id, status=ConversationStatus.ASSIGNED
    ).aggregate(count=Count("pk"), first=Min("assigned_at"), last=Max("assigned_at"))


def run(ctx: Context) -> tuple[list[Figure], list[Check]]:
    from bench.seed import seed
    from routing.tasks import route_queue

    backlog = redis.Redis.from_url(ctx.redis_url).llen("celery")
    # Routing requests left by an earlier benchmark would be measured instead of the burst.
    route_queue.app.control.purge()
    # Held, the worker's beat cannot start routing the burst while it is being made.
    worker_consuming(False)
    try:
        organization = seed(agents=AGENTS, max_open=MAX_OPEN, queued=BURST, outbound=0)[
            "organization"
        ]
        analyze()
        # As many requests as the worker has processes, as a burst's triggers can make:
        # one pass walks the queue, the other comes back once it is done
        # (conversations.passes).
        route_queue.delay(organization)
        route_queue.delay(organization)
    finally:
        released = time.time()
        worker_consuming(True)
    deadline = time.monotonic() + 300
    assigned = _assigned(organization)
    while assigned["count"] < PLACES and time.monotonic() < deadline:
        time.sleep(0.2)
        assigned = _assigned(organization)
    filled, first, last = assigned["count"], assigned["first"], assigned["last"]
    over, twice = over_capacity(organization)
    figures = [
        Figure(
            "routing requests waiting before the burst",
            str(backlog),
            "left in the Celery queue by the ingest run; purged first",
        ),
        Figure(
            "burst on the worker: places filled",
            f"{filled}/{PLACES}",
            f"from {BURST:,} new chats at {AGENTS} agents; {over} agents over max_open,"
            f" {twice} chats assigned twice",
        ),
    ]
    if first and last:
        figures.append(
            Figure(
                "burst on the worker: first and last assignment",
                f"{ms(first.timestamp() - released)}, {last.timestamp() - released:.2f} s",
                "after the worker may start",
            )
        )
    check = Check(
        f"routing: {BURST:,}-chat burst into {PLACES} places",
        product=f"{filled}/{PLACES} filled, {over} over capacity, {twice} twice",
        goal=f"{PLACES}/{PLACES}, none over",
        held=filled == PLACES and over == 0 and twice == 0,
    )
    return figures, [check]
