"""Real processes on 127.0.0.1 for the benchmarks and the fault tests.

Everything here starts an operating-system process in its own session (so that one
``killpg`` reaches a server and the workers it forked), waits until it answers, and
can stop it politely, kill it outright, or start it again. A private PostgreSQL and a
private Redis are started on spare ports from a temporary directory, from the same
binaries as the checkout's own (``cxgear.devservers``): the fault tests kill and restart
them without touching any other server.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cxgear import devservers

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"


class StackError(RuntimeError):
    """A process did not start, or did not answer in time; its log tail is in the message."""


def free_port() -> int:
    """A port the kernel says is free now (for servers the caller does not kill and restart)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def spare_port(preferred: int) -> int:
    """``preferred`` when nothing listens there, else any free port: two test sessions
    on one machine (two checkouts, two helpers) must not share a server."""
    return preferred if not port_open(preferred) else free_port()


def port_open(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Process:
    """One managed process (and its children) with its output kept in a log file."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_dir: Path
    port: int | None = None
    ready_text: str | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise StackError(f"{self.name} is not running")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def start(self, timeout: float = 30.0) -> Process:
        if self.running():
            raise StackError(f"{self.name} is running already")
        if self.port is not None and port_open(self.port):
            # Another server answering there would pass for this one being ready.
            raise StackError(f"{self.name}: port {self.port} is taken by another process")
        argv = list(self.argv)
        log = self.log_path.open("ab")
        offset = log.tell()
        self.popen = subprocess.Popen(
            argv,
            env=dict(self.env),
            cwd=PROJECT_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_ready(offset, timeout)
        return self

    def _wait_ready(self, offset: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StackError(f"{self.name} exited at start:\n{self.log_tail()}")
            ready = True
            if self.port is not None:
                ready = port_open(self.port)
            if ready and self.ready_text is not None:
                with self.log_path.open("rb") as log:
                    log.seek(offset)
                    ready = self.ready_text.encode() in log.read()
            if ready:
                return
            time.sleep(0.05)
        self.kill()
        raise StackError(f"{self.name} did not get ready in {timeout}s:\n{self.log_tail()}")

    def signal_group(self, signum: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the process and everything it forked: no clean-up, as in a crash."""
        if self.popen is None:
            return
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not gone after ``timeout`` seconds."""
        if not self.running():
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill()
        if self.port is not None:
            deadline = time.monotonic() + timeout
            while port_open(self.port) and time.monotonic() < deadline:
                time.sleep(0.05)

    def restart(self, timeout: float = 30.0) -> Process:
        self.stop()
        return self.start(timeout)

    def rss_kib(self) -> int:
        """Resident memory of this process alone, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise StackError(f"no VmRSS for {self.name}")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of this process and its children so far."""
        return sum(cpu_of(pid) for pid in _descendants(self.pid) | {self.pid})

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for path in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(path).read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            child = int(path.split("/")[2])
            found |= {child} | _descendants(child)
    return found


def rss_of_tree(pid: int) -> int:
    """The resident memory of a process and its descendants, in bytes."""
    total = 0
    for member in {pid} | _descendants(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temporary directory, trust auth on 127.0.0.1,
    started as ``cxgear.devservers`` starts the checkout's own (its binaries, its user)."""

    def __init__(self, *, port: int, log_dir: Path) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="cxgear-pg-"))
        self.data = self.root / "data"
        devservers.postgres_init(self.data)
        self.process = Process(
            name=f"postgres-{port}",
            argv=devservers.postgres_argv(self.data, port, throwaway=True),
            env=os.environ,
            log_dir=log_dir,
            port=port,
        )

    def url(self, database: str = "postgres") -> str:
        return devservers.postgres_url(self.port, database)

    def start(self) -> PrivatePostgres:
        self.process.start()
        devservers.wait_for_postgres(self.url())
        return self

    def stop(self) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: clients are cut off, data kept.
        self.process.signal_group(signal.SIGINT)
        if self.process.popen is not None:
            try:
                self.process.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """A Redis server that keeps nothing on disk, on its own port."""

    def __init__(self, *, port: int, log_dir: Path) -> None:
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="cxgear-redis-"))
        self.process = Process(
            name=f"redis-{port}",
            argv=devservers.redis_argv(self.root, port, throwaway=True),
            env=os.environ,
            log_dir=log_dir,
            port=port,
        )

    def url(self, db: int = 0) -> str:
        return devservers.redis_url(self.port, db)

    def start(self) -> PrivateRedis:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    def destroy(self) -> None:
        self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def project_env(
    *, database_url: str, redis_url: str, graph_url: str | None = None, **extra: str
) -> dict[str, str]:
    """The environment of a production-shaped project process (DEBUG off: DEBUG keeps
    every SQL query in memory and would slow and bloat what is measured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cxgear.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="bench-and-fault-tests-only-not-a-real-secret",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if graph_url:
        env["WHATSAPP_GRAPH_URL"] = graph_url
    env.update(extra)
    return env


WSGI_APP = "cxgear.wsgi:application"


def gunicorn(
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    workers: int = 4,
    threads: int = 1,
    app: str = WSGI_APP,
) -> Process:
    """The plain HTTP paths under WSGI. ``threads`` > 1 picks the gthread worker, which
    keeps client connections alive; the sync worker closes each after its response."""
    argv = [PYTHON, "-m", "gunicorn", app, "-b", f"{HOST}:{port}"]
    argv += ["-w", str(workers), "--log-level", "warning"]
    if threads > 1:
        argv += ["-k", "gthread", "--threads", str(threads)]
    return Process(
        name=f"gunicorn-{port}", argv=argv, env=_wsgi_env(env), log_dir=log_dir, port=port
    )


def granian(
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    workers: int = 2,
    threads: int = 4,
    app: str = WSGI_APP,
) -> Process:
    """The plain HTTP paths under WSGI, served by granian: HTTP in compiled code, the
    application in ``threads`` threads of each of ``workers`` processes."""
    argv = [PYTHON, "-m", "granian", "--interface", "wsgi", "--host", HOST]
    argv += ["--port", str(port), "--workers", str(workers), "--blocking-threads", str(threads)]
    argv += ["--log-level", "warning", app]
    return Process(
        name=f"granian-{port}", argv=argv, env=_wsgi_env(env), log_dir=log_dir, port=port
    )


def _wsgi_env(env: Mapping[str, str]) -> dict[str, str]:
    """A WSGI server's environment: its threads are fixed, so each keeps its own database
    connection, as deployed (``rundock``, compose)."""
    return {"DATABASE_CONNECTIONS": "persistent", **env}


def daphne(*, port: int, env: Mapping[str, str], log_dir: Path) -> Process:
    argv = [PYTHON, "-m", "daphne", "-b", HOST, "-p", str(port), "cxgear.asgi:application"]
    return Process(name=f"daphne-{port}", argv=argv, env=env, log_dir=log_dir, port=port)


def celery_worker(
    *,
    env: Mapping[str, str],
    log_dir: Path,
    name: str = "worker",
    concurrency: int = 2,
    beat: bool = False,
) -> Process:
    argv = [PYTHON, "-m", "celery", "-A", "cxgear", "worker", "-l", "INFO"]
    argv += ["-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        argv += ["-B", "-s", str(log_dir / f"{name}-beat-schedule")]
    return Process(name=f"celery-{name}", argv=argv, env=env, log_dir=log_dir, ready_text=" ready.")


def manage(*args: str, env: Mapping[str, str]) -> str:
    """Run a management command to the end and return what it printed."""
    done = subprocess.run(
        [PYTHON, "manage.py", *args], env=dict(env), cwd=PROJECT_DIR, capture_output=True
    )
    if done.returncode:
        raise StackError(
            f"manage.py {' '.join(args)} failed:\n{done.stdout.decode()}{done.stderr.decode()}"
        )
    return done.stdout.decode()
