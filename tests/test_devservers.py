"""The checkout's own PostgreSQL and Redis (``cxgear.devservers``): what ``make run`` and
``make test`` stand on when no URL names a server. Each test starts them under a
directory of its own, as ``make run`` does under ``var/``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings

from cxgear import devservers

ROOT = Path(__file__).resolve().parent.parent


def devservers_cli(var: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cxgear.devservers", "--var", str(var), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def start(var: Path) -> dict[str, str]:
    """``start``'s exports, as a shell would read them."""
    exports = [line.removeprefix("export ") for line in devservers_cli(var, "start").splitlines()]
    return dict(line.split("=", 1) for line in exports)


@pytest.fixture
def var(tmp_path):
    var = tmp_path / "var"
    yield var
    devservers_cli(var, "stop")


def executable(pid: int) -> str:
    return os.readlink(f"/proc/{pid}/exe")


def test_a_first_start_runs_both_servers_from_the_python_packages_with_data_under_var(var):
    assert devservers.recorded_url("DATABASE_URL", var) is None

    urls = start(var)

    with psycopg.connect(urls["DATABASE_URL"]) as conn:
        database, data = conn.execute(
            "SELECT current_database(), current_setting('data_directory')"
        ).fetchone()
    assert database == "cxgear"
    assert Path(data) == var / "postgres" / "data"
    assert redis.Redis.from_url(urls["REDIS_URL"]).ping()
    pg, rd = devservers.servers(var)["DATABASE_URL"], devservers.servers(var)["REDIS_URL"]
    packages = {
        executable(pg.pid()): devservers.postgres_binary("postgres"),
        executable(rd.pid()): devservers.redis_binary(),
    }
    assert all(Path(exe).resolve() == binary.resolve() for exe, binary in packages.items())
    assert devservers.recorded_url("DATABASE_URL", var) == urls["DATABASE_URL"]
    assert devservers.recorded_url("REDIS_URL", var) == urls["REDIS_URL"]


def test_a_second_start_finds_the_data_of_the_first_on_the_same_addresses(var):
    first = start(var)
    with psycopg.connect(first["DATABASE_URL"]) as conn:
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    redis.Redis.from_url(first["REDIS_URL"]).set("kept", "still here")
    assert start(var) == first  # running already: left as it is

    devservers_cli(var, "stop")
    assert not any(s.running() for s in devservers.servers(var).values())
    second = start(var)

    assert second == first
    with psycopg.connect(second["DATABASE_URL"]) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("still here",)]
    assert redis.Redis.from_url(second["REDIS_URL"]).get("kept") == b"still here"


def test_run_starts_only_what_the_environment_does_not_name_and_stops_it_afterwards(var):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["REDIS_URL"] = settings.REDIS_URL
    show = (
        "import json, os; print(json.dumps([os.environ['DATABASE_URL'], os.environ['REDIS_URL']]))"
    )

    out = devservers_cli(var, "--throwaway", "run", "--", sys.executable, "-c", show, env=env)

    database_url, redis_url = json.loads(out)
    assert database_url == devservers.recorded_url("DATABASE_URL", var)
    assert redis_url == settings.REDIS_URL
    assert not (var / "redis").exists()
    assert not devservers.servers(var)["DATABASE_URL"].running()


def test_ctrl_c_ends_the_command_and_then_the_servers_run_started(var):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    argv = [sys.executable, "-m", "cxgear.devservers", "--var", str(var), "--throwaway", "run"]
    argv += ["--", sys.executable, "-c", "import time; time.sleep(120)"]
    # A session of its own, so the interrupt reaches its process group as a terminal's.
    wrapper = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        servers = devservers.servers(var).values()
        while not all(s.running() for s in servers) or len(_group(wrapper.pid)) < 2:
            assert time.monotonic() < deadline, "the servers did not start"
            time.sleep(0.1)

        os.killpg(wrapper.pid, signal.SIGINT)

        assert wrapper.wait(timeout=60) == 128 + signal.SIGINT
        assert not any(s.running() for s in servers)
        assert _group(wrapper.pid) == []
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)


def _group(pgid: int) -> list[int]:
    """The processes of a process group that still run."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found
