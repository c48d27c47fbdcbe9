"""The stack one benchmark run shares: the scratch database, Redis, logs and ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import Process, cpu_of, port_open, project_env

PORT_RANGE = range(18500, 18700)


@dataclass
class Context:
    database_url: str
    redis_url: str
    log_dir: Path
    graph_url: str | None = None
    profile: bool = False
    started: list[Process] = field(default_factory=list)
    _ports: Iterator[int] = field(default_factory=lambda: iter(PORT_RANGE))

    def port(self) -> int:
        """The next port of the benchmarks' range that nothing listens on."""
        for port in self._ports:
            if not port_open(port):
                return port
        raise RuntimeError("no free port left in the benchmarks' range")

    def env(self, app: str = "cxgear", **extra: str) -> dict[str, str]:
        """A project process's environment; ``app`` names its PostgreSQL connections
        (``application_name``) so their backends' CPU can be told apart."""
        return project_env(
            database_url=f"{self.database_url}?application_name={app}",
            redis_url=self.redis_url,
            graph_url=self.graph_url,
            **extra,
        )

    def start(self, process: Process, timeout: float = 60.0) -> Process:
        self.started.append(process)
        return process.start(timeout)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
        self.started.clear()


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent not idle since boot."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(database_url: str) -> dict[str, float]:
    """CPU seconds so far of each PostgreSQL backend serving ``database_url``'s database,
    summed by the ``application_name`` of its client (the backends run on this machine)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    totals: dict[str, float] = {}
    for pid, app in rows:
        totals[f"{app or 'other'}:{pid}"] = cpu_of(pid)
    return totals


def postgres_cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Per application, the backends' CPU between two ``postgres_cpu`` readings."""
    spent: dict[str, float] = {}
    for key, seconds in after.items():
        app = key.rsplit(":", 1)[0]
        spent[app] = spent.get(app, 0.0) + seconds - before.get(key, 0.0)
    return spent


def cpu_split(parts: dict[str, float], busy: float) -> str:
    """How the machine's CPU went while measuring: each named part, then the rest
    (PostgreSQL, Redis and anything else on the machine)."""
    rest = max(0.0, busy - sum(parts.values()))
    shown = [f"{name} {seconds:.1f}s" for name, seconds in parts.items()]
    return ", ".join([*shown, f"rest {rest:.1f}s"]) + f" of {busy:.1f} CPU-s"
