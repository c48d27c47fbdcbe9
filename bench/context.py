"""The stack one benchmark run shares: the scratch database, Redis, logs and ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.stack import Process, port_open, project_env

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
        (``application_name``), so ``pg_stat_activity`` tells the processes apart."""
        return project_env(
            database_url=f"{self.database_url}?application_name={app}",
            redis_url=self.redis_url,
            graph_url=self.graph_url,
            **{"MEDIA_ROOT": str(self.log_dir / "media"), **extra},
        )

    def start(self, process: Process, timeout: float = 60.0) -> Process:
        self.started.append(process)
        return process.start(timeout)

    def stop(self, process: Process) -> None:
        process.stop()
        self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()
        self.started.clear()


@dataclass(frozen=True)
class MachineCPU:
    """The machine's CPU seconds since boot, summed over its cores. ``busy`` is time spent
    running anything; ``stolen`` is time a virtual machine's cores wanted to run while the
    host ran other guests: it lengthens every figure without showing as anyone's CPU, so
    a run on a crowded host says so."""

    busy: float
    stolen: float

    @classmethod
    def now(cls) -> MachineCPU:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (
                int(v) for v in stat.readline().split()[1:9]
            )
        tick = os.sysconf("SC_CLK_TCK")
        return cls(busy=(user + nice + system + irq + softirq) / tick, stolen=steal / tick)

    def since(self, earlier: MachineCPU) -> MachineCPU:
        return MachineCPU(busy=self.busy - earlier.busy, stolen=self.stolen - earlier.stolen)

    def describe(self, wall_seconds: float) -> str:
        cores = os.cpu_count() or 1
        return (
            f"{self.busy:.1f} of {wall_seconds * cores:.1f} core-seconds busy,"
            f" {self.stolen:.1f} s stolen by the host"
        )


def cpu_split(parts: dict[str, float], spent: MachineCPU) -> str:
    """How the machine's CPU went while measuring: each named part, then the rest
    (PostgreSQL, Redis and anything else on the machine), then what the host took."""
    rest = max(0.0, spent.busy - sum(parts.values()))
    shown = [f"{name} {seconds:.1f}s" for name, seconds in parts.items()]
    return (
        ", ".join([*shown, f"rest {rest:.1f}s"])
        + f" of {spent.busy:.1f} CPU-s; {spent.stolen:.1f}s stolen by the host"
    )
