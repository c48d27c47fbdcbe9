"""Ingest: signed webhook deliveries at concurrency, against the raw insert rate.

Each server shape (granian as deployed, gunicorn's sync and threaded workers, and one
daphne process for ASGI) gets the same deliveries: one text message each, from a thousand
customers, so conversations open, fill and trigger routing on a real Celery worker as
they would in a shift. The webhook keeps each delivery and answers; the worker records it
into its thread. Figures: accepted messages per second, time to the 200, and when every
message was in its thread (how far recording trails the 200s).

granian is measured once more with the worker held (``HELD_SUFFIX``): it takes no task
while the deliveries come in, then records them all. The two halves of the stack then
each have the cores to themselves in turn, as they would on machines of their own (the
README's scale-out): the web tier's rate alone, then the worker's.

The baselines, on the same machine in the same run: PostgreSQL itself (single-row
INSERTs from one psycopg connection, and pgbench's insert rate at the same concurrency),
and the bare webhook (``bench/bare_webhook.py``: the signature check and one INSERT)
under the same servers, so a slow machine and a slow webhook can be told apart. The
deployed server, its bare view and the bare view on the server the target was sized on
(``REFERENCE``) are measured in turns, ``TURNS`` times, and summed up by their medians;
the reference scales the deployed server's rate to the speed of the machine where the
target was set."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench import loadgen, profile, stack
from bench.common import (
    APP_SECRET,
    BARE_TABLE,
    Figure,
    analyze,
    latency_figures,
    mean,
    percentile,
    seed_organization,
    worker_consuming,
)
from bench.context import (
    Context,
    MachineCPU,
    cpu_split,
    postgres_cpu,
    postgres_cpu_delta,
)
from bench.deliveries import encode, inbound_text
from cxgear import devservers

DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "3000"))
# A semicolon-separated list of shape labels to run (all of them when unset), for a quicker
# look at one server: ``BENCH_SHAPES="bare view, granian 2x4;granian 2x4"``.
ONLY_SHAPES = [s for s in os.environ.get("BENCH_SHAPES", "").split(";") if s]
WARMUP = 200
CONCURRENCY = 16
CUSTOMERS = 1000
AGENTS = 100
MAX_OPEN = 5
BASELINE_INSERTS = 4000
BASELINE_SECONDS = 5.0
BARE_APP = "bench.bare_webhook:application"
BARE_PREFIX = "bare view, "
# A shape whose Celery worker takes no task while the deliveries come in: the web tier
# alone on the cores, then the worker alone draining what it kept.
HELD_SUFFIX = ", worker held"


@dataclass(frozen=True)
class Shape:
    label: str
    make: Callable[[Context, int], stack.Process]
    # The bare view (``bench/bare_webhook.py``): a baseline, whose rows no worker records.
    bare: bool = False
    # The worker takes no task until the last 200 (``HELD_SUFFIX``).
    held: bool = False

    @property
    def server(self) -> str:
        """The server under the view: the bare view's rate on it is the shape's ratio."""
        return self.label.removeprefix(BARE_PREFIX).removesuffix(HELD_SUFFIX)


SHAPES = [
    Shape(
        BARE_PREFIX + "gunicorn sync x4",
        lambda ctx, port: stack.gunicorn(
            port=port, env=ctx.env("web"), log_dir=ctx.log_dir, workers=4, app=BARE_APP
        ),
        bare=True,
    ),
    Shape(
        BARE_PREFIX + "granian 2x4",
        lambda ctx, port: stack.granian(
            port=port, env=ctx.env("web"), log_dir=ctx.log_dir, app=BARE_APP
        ),
        bare=True,
    ),
    Shape(
        "gunicorn sync x4",
        lambda ctx, port: stack.gunicorn(
            port=port, env=ctx.env("web"), log_dir=ctx.log_dir, workers=4
        ),
    ),
    Shape(
        "gunicorn gthread 2x8",
        lambda ctx, port: stack.gunicorn(
            port=port, env=ctx.env("web"), log_dir=ctx.log_dir, workers=2, threads=8
        ),
    ),
    Shape(
        "granian 2x4",
        lambda ctx, port: stack.granian(port=port, env=ctx.env("web"), log_dir=ctx.log_dir),
    ),
    Shape(
        "granian 2x4" + HELD_SUFFIX,
        lambda ctx, port: stack.granian(port=port, env=ctx.env("web"), log_dir=ctx.log_dir),
        held=True,
    ),
    Shape(
        "daphne x1",
        lambda ctx, port: stack.daphne(port=port, env=ctx.env("web"), log_dir=ctx.log_dir),
    ),
]


# The deployed server and its bare baseline are measured this many times, in turns, so
# each pair sees the same minutes of the host: its speed moves by a third and more within
# minutes, even seconds (docs/BENCHMARKS.md), and one run of each said more about the
# moment than the code. The verdict takes the medians of the turns.
TURNS = int(os.environ.get("BENCH_TURNS", "5"))
DEPLOYED = "granian 2x4"
# The view and server the ingest target was sized on: 1,200 req/s on the 2-core machine
# where the target was set. Measured in each turn too, it scales the deployed server's
# rate to that machine's speed.
REFERENCE = BARE_PREFIX + "gunicorn sync x4"
REFERENCE_RATE = 1200.0
# Measured in the turns only (the reference also once where it stands, as before).
TURNS_ONLY = {DEPLOYED, BARE_PREFIX + DEPLOYED}
REPEATED = TURNS_ONLY | {REFERENCE}


@dataclass(frozen=True)
class Measured:
    rate: float
    p99: float
    figures: list[Figure]


def _schedule() -> list[tuple[int, Shape, int]]:
    """The shapes to measure, in order, as (index, shape, turn): each once, in the order
    of ``SHAPES``, but the deployed server, its bare view and the reference ``TURNS``
    times, one after the other in each turn, where the deployed server stands (the worker
    is as warm for its first turn as it always was). The reference is also measured once
    where it stands, as the other gunicorn shapes' bare view. Turn -1 is a single run."""
    schedule: list[tuple[int, Shape, int]] = []
    repeated = [(i, shape) for i, shape in enumerate(SHAPES) if shape.label in REPEATED]
    chosen = {shape.label for shape in SHAPES if not ONLY_SHAPES or shape.label in ONLY_SHAPES}
    for index, shape in enumerate(SHAPES):
        if shape.label == DEPLOYED:
            schedule += [
                (i, each, turn)
                for turn in range(TURNS)
                for i, each in repeated
                if each.label in chosen
            ]
        elif shape.label not in TURNS_ONLY and shape.label in chosen:
            schedule.append((index, shape, -1))
    return schedule


@dataclass(frozen=True)
class Turn:
    """The deployed server's run in one turn, with the baselines measured just before it."""

    measured: Measured
    bare: float | None
    reference: float | None


def _turns_summary(turns: list[Turn], references: list[float]) -> list[Figure]:
    """The deployed server over its turns: the median rate, the median of each turn's
    ratio to the bare view measured just before it, and the median rate scaled to the
    machine the target was sized on by the median of the run's ``references``.

    Medians, not turn by turn: the host's speed swings within seconds (the machine
    section's steadiness), so one slow reference run would make its turn look fast.
    Each turn's own scaling is printed beside them."""
    rates = sorted(turn.measured.rate for turn in turns)
    median_rate = statistics.median(rates)
    ratios = sorted(turn.measured.rate / turn.bare for turn in turns if turn.bare)
    scaled = sorted(
        turn.measured.rate / turn.reference * REFERENCE_RATE for turn in turns if turn.reference
    )
    p99s = [turn.measured.p99 for turn in turns]
    figures = [
        Figure(
            f"ingest [{DEPLOYED}] over {len(rates)} turns",
            f"{median_rate:,.0f} msgs/s median",
            f"{rates[0]:,.0f}-{rates[-1]:,.0f} msgs/s"
            + (
                f"; {percentile(ratios, 50):.2f}x the bare view, median of the turns"
                f" ({ratios[0]:.2f}-{ratios[-1]:.2f})"
                if ratios
                else ""
            )
            + f"; p99 at most {max(p99s) * 1000:.1f} ms",
        )
    ]
    if scaled and references:
        ordered = sorted(references)
        reference = statistics.median(ordered)
        figures.append(
            Figure(
                f"ingest [{DEPLOYED}] at the target's machine speed",
                f"{median_rate * REFERENCE_RATE / reference:,.0f} msgs/s",
                f"the median turn's rate times {REFERENCE_RATE:,.0f} over the median of the"
                f" {len(ordered)} [{REFERENCE}] runs ({reference:,.0f} msgs/s;"
                f" {ordered[0]:,.0f}-{ordered[-1]:,.0f}), which made {REFERENCE_RATE:,.0f}"
                f" req/s where the target was set; turn by turn, against the run just"
                f" before each, {scaled[0]:,.0f}-{scaled[-1]:,.0f}",
            )
        )
    return figures


def baseline_psycopg(database_url: str) -> tuple[float, list[float]]:
    """Single-row INSERTs, each its own transaction, from one connection: rows/s
    (at most ``BASELINE_INSERTS`` rows or ``BASELINE_SECONDS``)."""
    times: list[float] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_baseline ("
            " id bigserial PRIMARY KEY, wamid text UNIQUE NOT NULL, body jsonb NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("TRUNCATE bench_baseline")
        started = time.perf_counter()
        for i in range(BASELINE_INSERTS):
            t = time.perf_counter()
            conn.execute(
                "INSERT INTO bench_baseline (wamid, body) VALUES (%s, %s)",
                (f"wamid.base.{i}", '{"text": "Hello, I need help with my order"}'),
            )
            times.append(time.perf_counter() - t)
            if t - started > BASELINE_SECONDS:
                break
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_baseline")
    return len(times) / elapsed, times


def baseline_pgbench(database_url: str) -> float | None:
    """pgbench's rate for the same single-row INSERT at the benchmark's concurrency."""
    pgbench = str(devservers.postgres_binary("pgbench"))
    if not Path(pgbench).exists():
        return None
    parts = urlsplit(database_url)
    conn = [
        "-h",
        parts.hostname or stack.HOST,
        "-p",
        str(parts.port or 5432),
        "-U",
        parts.username or "postgres",
    ]
    database = parts.path.lstrip("/")
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(
            "CREATE TABLE IF NOT EXISTS bench_pgbench ("
            " id bigserial PRIMARY KEY, body jsonb NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write("""INSERT INTO bench_pgbench (body) VALUES ('{"text": "hello"}');\n""")
        script.flush()
        done = subprocess.run(
            [
                pgbench,
                *conn,
                "-n",
                "-c",
                str(CONCURRENCY),
                "-j",
                "2",
                "-T",
                "5",
                "-f",
                script.name,
                database,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("DROP TABLE bench_pgbench")
    found = re.search(r"tps = ([0-9.]+)", done.stdout)
    return float(found.group(1)) if found else None


def _deliveries(channel_key: str, phone_number_id: str, tag: str, count: int, start: int = 0):
    path = f"/webhooks/whatsapp/{channel_key}/"
    for i in range(start, start + count):
        wa_id = f"4470{tag}{i % CUSTOMERS:06d}"
        payload = inbound_text(
            phone_number_id=phone_number_id,
            wa_id=wa_id,
            wamid=f"wamid.bench.{tag}.{i}",
            text=f"message {i} from a customer in a hurry",
        )
        body, headers = encode(payload, APP_SECRET)
        yield loadgen.Request(path, body, headers)


def _count_until(
    database_url: str,
    sql: str,
    params: tuple[object, ...],
    done: Callable[[int], bool],
    timeout: float,
) -> tuple[int, float]:
    """Run the counting ``sql`` every 50 ms until ``done`` says its count is enough (or
    the wait gives up): the last count, and when (``monotonic``) it was read."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while True:
            row = conn.execute(sql, params).fetchone()
            count = int(row[0]) if row else 0
            if done(count) or time.monotonic() > deadline:
                return count, time.monotonic()
            time.sleep(0.05)


def _recorded(
    database_url: str, tag: str, expected: int, timeout: float = 120.0
) -> tuple[int, float]:
    """How many of this run's messages are in their threads, and when (``monotonic``)
    the count reached ``expected`` (or the wait gave up)."""
    return _count_until(
        database_url,
        "SELECT count(DISTINCT wamid) FROM conversations_message WHERE wamid LIKE %s",
        (f"wamid.bench.{tag}.%",),
        lambda recorded: recorded >= expected,
        timeout,
    )


def _settled(database_url: str, organization_id: int, timeout: float = 60.0) -> None:
    """Wait until no chat of the organization is queued (its agents have room for all)."""
    _count_until(
        database_url,
        "SELECT count(*) FROM conversations_conversation"
        " WHERE organization_id = %s AND status = 'queued'",
        (organization_id,),
        lambda queued: queued == 0,
        timeout,
    )


def _bare_table(database_url: str) -> None:
    """Make the bare webhook's table, or empty it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id bigserial PRIMARY KEY,"
            " body bytea NOT NULL, received_at timestamptz NOT NULL)"
        )
        conn.execute(f"TRUNCATE {BARE_TABLE}")


def _bare_rows(database_url: str) -> int:
    """The rows the bare webhook has inserted since its table was emptied."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(f"SELECT count(*) FROM {BARE_TABLE}").fetchone()
    return int(row[0]) if row else 0


def _measure(
    ctx: Context,
    worker: stack.Process,
    shape: Shape,
    *,
    tag: str,
    label: str,
    bare: float | None,
    reference: float | None,
    raw_rate: float,
    pgbench_rate: float | None,
) -> Measured:
    """One shape's warm-up and its measured deliveries, on a desk of its own; ``bare`` is
    the bare view's rate on the same server just before, for the ratio, and ``reference``
    the reference's rate last measured, which scales the rate to the target's machine."""
    # Every shape starts from the same desk: an organization of its own whose agents
    # all have room, so no shape is measured against the queue an earlier one left.
    channel = seed_organization(agents=AGENTS, max_open=MAX_OPEN, name=f"Ingest {label}")["channel"]
    analyze()
    port = ctx.port()
    server = ctx.start(shape.make(ctx, port))
    loadgen.post_all(
        port=port,
        requests=list(_deliveries(channel.key, channel.phone_number_id, f"w{tag}", WARMUP)),
        concurrency=CONCURRENCY,
    )
    if shape.bare:
        _bare_table(ctx.database_url)  # only the measured deliveries count
    else:
        # The warm-up's chats are recorded and routed before the measured deliveries
        # start: what is measured is the deliveries' own work.
        _recorded(ctx.database_url, f"w{tag}", expected=WARMUP)
        _settled(ctx.database_url, channel.organization_id)
    requests = list(_deliveries(channel.key, channel.phone_number_id, tag, DELIVERIES))
    server_cpu, worker_cpu, busy = (
        server.cpu_seconds(),
        worker.cpu_seconds(),
        MachineCPU.now(),
    )
    pg_before = postgres_cpu(ctx.database_url)
    sampler = (
        profile.Sampler(server.pid, ctx.log_dir / f"profile-{tag}.txt") if ctx.profile else None
    )
    if shape.held:
        worker_consuming(False)
    began = time.monotonic()
    try:
        result = loadgen.post_all(port=port, requests=requests, concurrency=CONCURRENCY)
    finally:
        answered = time.monotonic()
        if shape.held:
            worker_consuming(True)
    if sampler is not None:
        sampler.stop()
    ok = result.ok
    # The worker records what the webhook kept; its CPU counts until it is done.
    if shape.bare:
        recorded, recorded_at = _bare_rows(ctx.database_url), answered
    else:
        recorded, recorded_at = _recorded(ctx.database_url, tag, expected=len(ok))
    server_cpu = server.cpu_seconds() - server_cpu
    worker_cpu = worker.cpu_seconds() - worker_cpu
    busy = MachineCPU.now().since(busy)
    pg = postgres_cpu_delta(pg_before, postgres_cpu(ctx.database_url))
    server.stop()
    ctx.started.remove(server)

    statuses: dict[int, int] = {}
    for r in result.results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    rate = len(ok) / result.wall_seconds
    figures: list[Figure] = []
    figures.append(
        Figure(
            f"ingest [{label}]",
            f"{rate:,.0f} msgs/s",
            (f"{rate / bare:.2f}x the bare view on the same server, " if bare else "")
            + f"{rate / raw_rate:.2f}x the psycopg baseline"
            + (f", {rate / pgbench_rate:.2f}x pgbench" if pgbench_rate else "")
            + f"; {DELIVERIES} deliveries, {CONCURRENCY} keep-alive clients",
        )
    )
    # The target's machine speed: as fast, against the reference, as where it was set.
    speed = REFERENCE_RATE / reference if reference and not shape.bare else None
    if speed:
        figures.append(
            Figure(
                f"ingest [{label}] at the target's machine speed",
                f"{rate * speed:,.0f} msgs/s",
                f"this rate times {REFERENCE_RATE:,.0f} over the [{REFERENCE}] run"
                f" measured last ({reference:,.0f} msgs/s)",
            )
        )
    figures += latency_figures(f"ingest [{label}] time to the 200", [r.seconds for r in ok])
    figures.append(
        Figure(
            f"ingest [{label}] answers",
            ", ".join(f"{s or 'no answer'}: {n}" for s, n in sorted(statuses.items())),
            f"{result.connections_opened} connections opened",
        )
    )
    if shape.bare:
        figures.append(Figure(f"ingest [{label}] inserted", f"{recorded}/{len(ok)} rows"))
    elif shape.held:
        drained = recorded / max(recorded_at - answered, 1e-9)
        figures.append(
            Figure(
                f"ingest [{label}] recorded",
                f"{recorded}/{len(ok)} messages",
                f"all in their threads {recorded_at - answered:.1f} s after the worker took"
                f" tasks again: {drained:,.0f} msgs/s through Celery alone"
                + (f", {drained * speed:,.0f} at the target's machine speed" if speed else ""),
            )
        )
    else:
        figures.append(
            Figure(
                f"ingest [{label}] recorded",
                f"{recorded}/{len(ok)} messages",
                f"all in their threads {recorded_at - began:.1f} s after the first"
                f" delivery, {max(recorded_at - answered, 0.0):.1f} s after the last 200"
                f" ({recorded / max(recorded_at - began, 1e-9):,.0f} msgs/s through"
                " Celery)",
            )
        )
    figures.append(
        Figure(
            f"ingest [{label}] CPU",
            cpu_split(
                {
                    "server": server_cpu,
                    "its PostgreSQL": pg.get("web", 0.0),
                    "celery": worker_cpu,
                    "load generator": result.client_cpu_seconds,
                },
                busy,
            ),
            f"mean time to the 200 {mean([r.seconds for r in ok]) * 1000:.1f} ms",
        )
    )
    per_message = (server_cpu + pg.get("web", 0.0) + worker_cpu) / max(len(ok), 1)
    figures.append(
        Figure(
            f"ingest [{label}] CPU per message",
            f"{per_message * 1000:.1f} ms",
            f"server {server_cpu / max(len(ok), 1) * 1000:.1f} + its PostgreSQL"
            f" {pg.get('web', 0.0) / max(len(ok), 1) * 1000:.1f} + celery"
            f" {worker_cpu / max(len(ok), 1) * 1000:.1f}: at most"
            f" {(os.cpu_count() or 1) / max(per_message, 1e-9):,.0f} msgs/s on this"
            " machine's cores with nothing else running",
        )
    )
    if sampler is not None:
        figures += profile.summarise(sampler.output, label)
    return Measured(rate=rate, p99=percentile([r.seconds for r in ok], 99), figures=figures)


def run(ctx: Context, worker: stack.Process) -> list[Figure]:
    figures: list[Figure] = []

    raw_rate, raw_times = baseline_psycopg(ctx.database_url)
    figures.append(
        Figure(
            "baseline: psycopg single-row INSERT",
            f"{raw_rate:,.0f} rows/s",
            f"1 connection, autocommit; p50 {percentile(raw_times, 50) * 1000:.2f} ms,"
            f" p99 {percentile(raw_times, 99) * 1000:.2f} ms",
        )
    )
    pgbench_rate = baseline_pgbench(ctx.database_url)
    if pgbench_rate:
        figures.append(
            Figure(
                "baseline: pgbench single-row INSERT",
                f"{pgbench_rate:,.0f} rows/s",
                f"{CONCURRENCY} clients, 5 s",
            )
        )

    _bare_table(ctx.database_url)
    bare_rates: dict[str, float] = {}
    # The reference's rate last measured: in a turn, the same turn's (it comes first).
    reference: float | None = None
    references: list[float] = []
    turns: list[Turn] = []
    for index, shape, turn in _schedule():
        tag = f"s{index}t{turn + 1}"
        label = shape.label if turn < 0 else f"{shape.label} #{turn + 1}"
        bare = None if shape.bare else bare_rates.get(shape.server)
        measured = _measure(
            ctx,
            worker,
            shape,
            tag=tag,
            label=label,
            bare=bare,
            reference=reference,
            raw_rate=raw_rate,
            pgbench_rate=pgbench_rate,
        )
        figures += measured.figures
        if shape.bare:
            bare_rates[shape.server] = measured.rate
        if shape.label == REFERENCE:
            reference = measured.rate
            references.append(measured.rate)
        if shape.label == DEPLOYED:
            turns.append(Turn(measured, bare, reference))
    if turns:
        figures += _turns_summary(turns, references)
    return figures
