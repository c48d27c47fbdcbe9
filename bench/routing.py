"""Routing: a burst of 1,000 new chats at 100 agents with room for 500 of them.

Two measurements. On the real stack, the Celery worker (two processes, as deployed) is
asked to route the burst the way the webhook asks it, and the figure is the time from
when it may start until every place is filled, read from the assignments' own
timestamps: it takes no task while the burst is written and the statistics gathered.
Then each decision is timed alone: the same burst in a second organization is routed in
this process by the router itself, with ``route_one`` (one decision, one transaction)
timed around each call. The baseline is the smallest write an assignment
could be: a conditional UPDATE claiming one queued row, committed, from psycopg."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import redis

from bench import stack
from bench.common import Figure, latency_figures, ms, percentile, worker_consuming
from bench.context import Context, MachineCPU

AGENTS = 100
MAX_OPEN = 5
BURST = 1000
PLACES = AGENTS * MAX_OPEN


def _burst(name: str) -> dict[str, Any]:
    from bench.common import analyze
    from bench.seed import seed

    made = seed(agents=AGENTS, max_open=MAX_OPEN, queued=BURST, outbound=0)
    analyze()
    return made | {"name": name}


def _assigned(database_url: str, organization_id: int) -> tuple[int, Any, Any]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*), min(assigned_at), max(assigned_at)"
            " FROM conversations_conversation WHERE organization_id = %s AND status = 'assigned'",
            (organization_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), row[1], row[2]


def over_assignment(database_url: str, organization_id: int) -> tuple[int, int]:
    """Agents holding more than their ``max_open``, and chats assigned more than once."""
    with psycopg.connect(database_url) as conn:
        over = conn.execute(
            "SELECT count(*) FROM (SELECT m.id FROM conversations_membership m"
            " JOIN conversations_conversation c ON c.agent_id = m.id AND c.status = 'assigned'"
            " WHERE m.organization_id = %s GROUP BY m.id HAVING count(*) > m.max_open) x",
            (organization_id,),
        ).fetchone()
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT e.conversation_id FROM conversations_conversationevent e"
            " JOIN conversations_conversation c ON c.id = e.conversation_id"
            " WHERE c.organization_id = %s AND e.kind = 'assigned'"
            " GROUP BY e.conversation_id HAVING count(*) > 1) x",
            (organization_id,),
        ).fetchone()
    return int(over[0] if over else -1), int(twice[0] if twice else -1)


def baseline_claim(database_url: str, rows: int = 500) -> list[float]:
    """Per-claim time of ``UPDATE ... WHERE id = %s AND status = 'queued'`` + COMMIT."""
    times: list[float] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE bench_claim (id bigint PRIMARY KEY, status text NOT NULL,"
            " agent_id bigint, assigned_at timestamptz)"
        )
        conn.execute(
            "INSERT INTO bench_claim (id, status) SELECT g, 'queued' FROM generate_series(1, %s) g",
            (rows,),
        )
        for i in range(1, rows + 1):
            started = time.perf_counter()
            conn.execute(
                "UPDATE bench_claim SET status = 'assigned', agent_id = %s, assigned_at = now()"
                " WHERE id = %s AND status = 'queued'",
                (i % AGENTS, i),
            )
            times.append(time.perf_counter() - started)
        conn.execute("DROP TABLE bench_claim")
    return times


def _on_the_stack(ctx: Context) -> list[Figure]:
    from routing.tasks import route_queue

    backlog = redis.Redis.from_url(ctx.redis_url).llen("celery")
    # Routing requests left by an earlier benchmark would be measured instead of the burst.
    route_queue.app.control.purge()
    # Held, the worker's beat cannot start routing the burst while it is being made.
    worker_consuming(False)
    try:
        burst = _burst("stack")
        # As many requests as the worker has processes, as a burst's triggers can make:
        # one pass walks the queue, the other comes back once it is done
        # (cxgear.passes).
        route_queue.delay(burst["organization"])
        route_queue.delay(burst["organization"])
    finally:
        released = time.time()
        worker_consuming(True)
    deadline = time.monotonic() + 300
    count, first, last = 0, None, None
    while time.monotonic() < deadline:
        count, first, last = _assigned(ctx.database_url, burst["organization"])
        if count >= PLACES:
            break
        time.sleep(0.2)
    over, twice = over_assignment(ctx.database_url, burst["organization"])
    figures = [
        Figure(
            "routing requests waiting before the burst",
            str(backlog),
            "left in the Celery queue by the ingest run; purged first",
        ),
        Figure(
            "burst on the worker: all with room assigned",
            f"{last.timestamp() - released:.2f} s" if last else "never",
            f"{count}/{PLACES} places filled from {BURST} new chats, {AGENTS} agents",
        ),
    ]
    if first and last and count > 1:
        figures.append(
            Figure(
                "burst on the worker: first assignment after",
                ms(first.timestamp() - released),
                f"then {count / max(last.timestamp() - first.timestamp(), 1e-9):,.0f}"
                " assignments/s",
            )
        )
    figures.append(
        Figure(
            "burst on the worker: over-assignment",
            f"{over} agents over max_open, {twice} chats assigned twice",
        )
    )
    return figures


def _per_decision(ctx: Context) -> list[Figure]:
    from routing import router

    burst = _burst("decisions")
    decisions: list[float] = []
    original = router.route_one

    def timed(**kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(**kwargs)
        finally:
            decisions.append(time.perf_counter() - started)

    router.route_one = timed  # type: ignore[assignment]
    try:
        machine = MachineCPU.now()
        started = time.perf_counter()
        assigned = router.route_queue(organization_id=burst["organization"])
        elapsed = time.perf_counter() - started
        machine = MachineCPU.now().since(machine)
    finally:
        router.route_one = original  # type: ignore[assignment]
    claim = baseline_claim(ctx.database_url)
    over, twice = over_assignment(ctx.database_url, burst["organization"])
    p99 = percentile(decisions, 99)
    return [
        Figure(
            "one router in-process: whole burst",
            f"{elapsed:.2f} s",
            f"{assigned} assigned in {len(decisions)} decisions",
        ),
        *latency_figures("per decision", decisions),
        Figure(
            "baseline: conditional UPDATE claim + COMMIT",
            f"p50 {ms(percentile(claim, 50))}, p99 {ms(percentile(claim, 99))}",
            f"decision p99 is {p99 / percentile(claim, 99):.1f}x the claim's p99",
        ),
        Figure("in-process: over-assignment", f"{over} agents over, {twice} chats twice"),
        Figure("in-process: the machine meanwhile", machine.describe(elapsed)),
    ]


def run(ctx: Context, worker: stack.Process) -> list[Figure]:
    figures = _on_the_stack(ctx)
    # The worker's beat would route the second burst too: decisions are timed alone.
    worker.stop()
    try:
        figures += _per_decision(ctx)
    finally:
        worker.start(timeout=60)
    return figures
