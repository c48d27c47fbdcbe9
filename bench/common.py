"""What every benchmark shares: a scratch database, Django pointed at it, seed data and
the way figures are summarised and printed."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

SCRATCH_SUFFIX = "_benchrun"
APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "155501002000"
# Where the bare webhook (``bench/bare_webhook.py``) keeps what it accepts.
BARE_TABLE = "bench_bare_delivery"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with ``pct`` percent at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


@dataclass
class Figure:
    """One printed line: what was measured, its value, and a note (baseline, ratio)."""

    name: str
    value: str
    note: str = ""


def print_section(title: str, figures: list[Figure]) -> None:
    print(f"\n== {title}")
    width = max(len(f.name) for f in figures)
    for f in figures:
        print(f"  {f.name.ljust(width)}  {f.value}" + (f"   ({f.note})" if f.note else ""))


@dataclass(frozen=True)
class Check:
    """One line of the summary: a product figure against its goal. A ratio's baseline was
    measured in the same run, on the same machine, so the host's speed divides out. An
    absolute condition (a latency ceiling, a count) has no ratio; a baseline beside it is
    there to read it by."""

    name: str
    product: str
    goal: str
    held: bool
    baseline: str = ""
    ratio: str = ""


def ratio_check(
    name: str,
    *,
    product: float,
    baseline: float,
    show: Callable[[float], str],
    baseline_name: str,
    at_least: float | None = None,
    at_most: float | None = None,
) -> Check:
    """``product / baseline`` held to ``at_least`` (a rate) or ``at_most`` (a latency)."""
    ratio = product / baseline if baseline > 0 else float("nan")
    if at_least is not None:
        goal, held = f"≥ {at_least:g}x", ratio >= at_least
    elif at_most is not None:
        goal, held = f"≤ {at_most:g}x", ratio <= at_most
    else:
        raise ValueError("a ratio needs a goal")
    return Check(
        name,
        product=show(product),
        baseline=f"{show(baseline)} ({baseline_name})",
        ratio=f"{ratio:.2f}x",
        goal=goal,
        held=held,
    )


def print_summary(checks: list[Check]) -> None:
    """The checks as one Markdown table, ready for docs/BENCHMARKS.md."""
    header = ("check", "product", "same-run baseline", "ratio", "goal", "verdict")
    rows = [header] + [
        (c.name, c.product, c.baseline, c.ratio, c.goal, "held" if c.held else "MISSED")
        for c in checks
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print("\n== summary")
    print(line(header))
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows[1:]:
        print(line(row))


def latency_figures(prefix: str, seconds: Sequence[float]) -> list[Figure]:
    return [
        Figure(f"{prefix} p50", ms(percentile(seconds, 50))),
        Figure(f"{prefix} p99", ms(percentile(seconds, 99))),
        Figure(f"{prefix} max", ms(max(seconds)) if seconds else "-"),
    ]


class ScratchDatabase:
    """A database of its own on the server of ``DATABASE_URL``, made fresh for the run and
    dropped after it, so a benchmark never writes into a database someone works in."""

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url.replace("postgresql://", "postgres://", 1))
        if parts.scheme != "postgres":
            raise SystemExit("the benchmarks need DATABASE_URL to name a PostgreSQL server")
        self.name = (parts.path.lstrip("/") or "cxgear") + SCRATCH_SUFFIX
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))

    def create(self) -> str:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def server_version(self) -> str:
        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
        return str(row[0]) if row else "?"


def setup_django(*, database_url: str, redis_url: str) -> None:
    """Django in this process, set up as the servers are (same secret key, so the
    sessions it writes sign in at daphne), on the scratch database."""
    from bench.stack import project_env

    os.environ.update(project_env(database_url=database_url, redis_url=redis_url))
    import django

    django.setup()


def run_alone(main: Callable[[], list[Check]]) -> None:
    """A benchmark run by itself (``python -m bench.<name>``): on a scratch database of
    its own on ``DATABASE_URL``'s server, migrated first and dropped after."""
    scratch = ScratchDatabase(os.environ.get("DATABASE_URL", ""))
    setup_django(database_url=scratch.create(), redis_url=os.environ.get("REDIS_URL", ""))
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        print_summary(main())
    finally:
        from django.db import connections

        connections.close_all()
        scratch.drop()


def worker_consuming(consuming: bool) -> None:
    """Have the Celery worker stop taking tasks from its queue, or take them again, and
    wait for its answer. A task it has taken already runs to its end, and the beat's
    tasks wait in the queue with the others."""
    from cxgear.celery import app

    control = app.control.add_consumer if consuming else app.control.cancel_consumer
    # One worker answers: ``limit`` ends the wait for answers with its own.
    if not control(app.conf.task_default_queue, reply=True, limit=1, timeout=5.0):
        raise RuntimeError(f"the Celery worker did not answer {control.__name__}")


def analyze() -> None:
    """ANALYZE the database, after seeding. A desk in service is known to the planner's
    statistics; an organization seeded a moment ago is not, and without them the planner
    may choose the agent by sorting the project's members instead of walking
    ``routing_load_order``, which no desk in service would see."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed_organization(*, agents: int, max_open: int, name: str = "Bench") -> dict[str, Any]:
    """An organization with one WhatsApp channel and ``agents`` Available agents.

    Members are written in bulk with unusable passwords: hashing a thousand passwords
    would take longer than the benchmark (the dock signs them in by session instead)."""
    from conversations.models import Membership, Organization, Role, User
    from conversations.services import channel_create, project_create
    from presence.models import AgentPresence, PresenceSource, PresenceStatus

    organization = Organization.objects.create(name=name)
    project = project_create(organization=organization, name=f"{name} campaign")
    channel = channel_create(
        organization=organization,
        project=project,
        phone_number_id=f"{PHONE_NUMBER_ID}{organization.pk}",
        access_token="bench-access-token",
        app_secret=APP_SECRET,
        verify_token="bench-verify",
    )
    users = User.objects.bulk_create(
        User(email=f"agent{i}.{organization.pk}@bench.test", name=f"Agent {i}", password="!")
        for i in range(agents)
    )
    members = Membership.objects.bulk_create(
        Membership(
            organization=organization,
            user=user,
            role=Role.AGENT,
            max_open=max_open,
            languages=["en"],
        )
        for user in users
    )
    Membership.projects.through.objects.bulk_create(
        Membership.projects.through(membership_id=m.pk, project_id=project.pk) for m in members
    )
    AgentPresence.objects.bulk_create(
        AgentPresence(membership=m, status=PresenceStatus.AVAILABLE, source=PresenceSource.SYSTEM)
        for m in members
    )
    return {
        "organization": organization,
        "project": project,
        "channel": channel,
        "members": members,
    }


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import platform

    import celery
    import channels
    import daphne
    import django
    import granian

    mem_kib = 0
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    cpu = "?"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "django": django.__version__,
        "channels": channels.__version__,
        "daphne": daphne.__version__,
        "granian": granian.__version__,
        "celery": celery.__version__,
        "psycopg": psycopg.__version__,
    }
