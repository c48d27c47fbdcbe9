"""``python -m bench [ingest] [routing] [fanout] [media] [webhooks] [decision] [reports]
[search]``: run the benchmarks (all of them when none is named) on the real stack, print their
figures, then one summary: each product figure against its baseline measured in the same run,
and against its goal.

It needs ``DATABASE_URL`` (a PostgreSQL server: the run makes its own scratch database
there and drops it after) and ``REDIS_URL`` (its database is flushed at the start)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import redis

from bench import stack
from bench.common import (
    Check,
    Figure,
    ScratchDatabase,
    machine,
    print_section,
    print_summary,
    setup_django,
)
from bench.context import Context

BENCHMARKS = ("ingest", "routing", "fanout", "media", "webhooks", "decision", "reports", "search")
# The summary's order: the routing decision's ratio before the burst's condition.
SUMMARY = ("ingest", "decision", "routing", "fanout", "media", "webhooks", "reports", "search")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="|".join(BENCHMARKS))
    parser.add_argument("--keep-logs", action="store_true", help="print where the logs are")
    parser.add_argument(
        "--profile", action="store_true", help="sample the ingest turns' product server with py-spy"
    )
    args = parser.parse_args()
    chosen = args.names or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"no benchmark named {', '.join(sorted(unknown))}")

    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url:
        print("set DATABASE_URL (PostgreSQL) and REDIS_URL; `make bench` does", file=sys.stderr)
        return 2

    scratch = ScratchDatabase(database_url)
    log_dir = Path(tempfile.mkdtemp(prefix="cxgear-bench-"))
    info = machine() | {
        "postgresql": scratch.server_version(),
        "redis": str(redis.Redis.from_url(redis_url).info("server")["redis_version"]),
    }
    print_section("machine", [Figure(k, v) for k, v in info.items()])

    # `timeout` and Ctrl-C must still stop every server the run started.
    signal.signal(signal.SIGTERM, _terminate)
    redis.Redis.from_url(redis_url).flushdb()
    ctx = Context(
        database_url=scratch.create(),
        redis_url=redis_url,
        log_dir=log_dir,
        profile=args.profile,
    )
    started = time.monotonic()
    checks: dict[str, list[Check]] = {}
    try:
        stack.manage("migrate", "--noinput", env=ctx.env())
        # The files the worker keeps, where this process reads them back (``bench.media``).
        os.environ["MEDIA_ROOT"] = str(log_dir / "media")
        setup_django(database_url=ctx.database_url, redis_url=redis_url)
        _run(ctx, chosen, checks)
    finally:
        ctx.stop_all()
        from django.db import connections

        connections.close_all()
        scratch.drop()
        if args.keep_logs:
            print(f"\nlogs: {log_dir}")
    print_summary([check for name in SUMMARY for check in checks.get(name, [])])
    print(f"\n(benchmarks took {time.monotonic() - started:.0f} s)")
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _run(ctx: Context, chosen: list[str], checks: dict[str, list[Check]]) -> None:
    from bench import fake_cloud

    ctx.graph_url = fake_cloud.start(ctx)
    # The webhooks benchmark's receivers listen on 127.0.0.1.
    worker = ctx.start(
        stack.celery_worker(
            env=ctx.env("celery", WEBHOOK_ALLOW_PRIVATE_URLS="true"), log_dir=ctx.log_dir, beat=True
        )
    )

    if "ingest" in chosen:
        from bench import ingest

        figures, checks["ingest"] = ingest.run(ctx, worker)
        print_section("ingest", figures)
    if "routing" in chosen:
        from bench import routing

        figures, checks["routing"] = routing.run(ctx)
        print_section("routing burst", figures)
    if "fanout" in chosen:
        from bench import fanout

        figures, checks["fanout"] = fanout.run(ctx, worker)
        print_section("dock fan-out", figures)
    if "media" in chosen:
        from bench import media

        figures, checks["media"] = media.run(ctx, worker)
        print_section("media", figures)

    if "webhooks" in chosen:
        from bench import webhooks

        figures, checks["webhooks"] = webhooks.run(ctx)
        print_section("event webhooks", figures)
    # In process, without the worker: its beat would route the decisions' chats first.
    ctx.stop(worker)
    if "decision" in chosen:
        from bench import routing_decision

        checks["decision"] = routing_decision.main()
    if "reports" in chosen:
        from bench import reports

        checks["reports"] = reports.main()

    if "search" in chosen:
        from bench import search

        checks["search"] = search.main()


if __name__ == "__main__":
    raise SystemExit(main())
