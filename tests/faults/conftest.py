"""Real processes for the fault tests: a private PostgreSQL and Redis on spare ports
(killed and restarted by the tests, never the machine's own services), gunicorn serving
the project, and Celery workers.

The tests do not use pytest-django's database: the servers they start write to the
private PostgreSQL, and the tests read it back with plain SQL."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from celery import Celery

from bench import stack
from bench.deliveries import encode

PG_PORT = 55432
REDIS_PORT = 56379
TEMPLATE = "cxgear_faults_template"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def fault_logs() -> Iterator[Path]:
    """The processes' logs; a failing test quotes their tails in its message."""
    path = Path(tempfile.mkdtemp(prefix="cxgear-faults-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres(fault_logs: Path) -> Iterator[stack.PrivatePostgres]:
    """One cluster for the session, with a migrated template each test copies."""
    pg = stack.PrivatePostgres(port=stack.spare_port(PG_PORT), log_dir=fault_logs).start()
    try:
        url = pg.create_database(TEMPLATE)
        # Migrating talks to no Redis: the URL only has to be a URL.
        env = stack.project_env(database_url=url, redis_url="redis://127.0.0.1:1/0")
        stack.manage("migrate", "--noinput", env=env)
        yield pg
    finally:
        pg.destroy()


@dataclass
class Stack:
    """One test's processes and its database; everything started is stopped after."""

    pg: stack.PrivatePostgres
    redis: stack.PrivateRedis
    database_url: str
    log_dir: Path
    env: dict[str, str]
    processes: list[stack.Process] = field(default_factory=list)
    seed: dict[str, Any] = field(default_factory=dict)

    def start(self, process: stack.Process) -> stack.Process:
        self.processes.append(process)
        return process.start(timeout=60)

    def web(self) -> str:
        """granian serving the project's plain HTTP paths, as deployed; returns its base URL."""
        port = stack.free_port()
        self.start(stack.granian(port=port, env=self.env, log_dir=self.log_dir))
        return f"http://{stack.HOST}:{port}"

    def worker(self, name: str = "worker", beat: bool = True) -> stack.Process:
        return self.start(
            stack.celery_worker(env=self.env, log_dir=self.log_dir, name=name, beat=beat)
        )

    def seed_data(self, **options: int) -> dict[str, Any]:
        argv = [stack.PYTHON, "-m", "bench.seed"]
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        done = subprocess.run(
            argv, env=self.env, cwd=stack.PROJECT_DIR, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        self.seed = json.loads(done.stdout.strip().splitlines()[-1])
        return self.seed

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def scalar(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self.sql(query, params)[0][0]

    def enqueue(self, task: str, *args: Any) -> None:
        """Send a task to the workers as the product would (the test process's own Celery
        app talks to the machine's Redis, not this private one)."""
        app = Celery(broker=self.redis.url(0))
        try:
            app.send_task(task, args=list(args))
        finally:
            app.close()

    def webhook(self, client: httpx.Client, base_url: str, payload: dict[str, Any]) -> int:
        body, headers = encode(payload, self.seed["app_secret"])
        response = client.post(
            f"{base_url}/webhooks/whatsapp/{self.seed['channel_key']}/",
            content=body,
            headers=headers,
        )
        return response.status_code

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log_tail(15)}" for p in self.processes)


@pytest.fixture
def fault_stack(private_postgres: stack.PrivatePostgres, fault_logs: Path) -> Iterator[Stack]:
    name = f"cxgear_fault_{next(_numbers)}"
    with psycopg.connect(private_postgres.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    redis = stack.PrivateRedis(port=stack.spare_port(REDIS_PORT), log_dir=fault_logs).start()
    database_url = private_postgres.url(name)
    env = stack.project_env(
        database_url=database_url,
        redis_url=redis.url(0),
        ROUTING_SWEEP_SECONDS="1",
    )
    test_stack = Stack(
        pg=private_postgres, redis=redis, database_url=database_url, log_dir=fault_logs, env=env
    )
    try:
        yield test_stack
    finally:
        for process in reversed(test_stack.processes):
            process.kill()
        redis.destroy()
        if not private_postgres.process.running():
            private_postgres.start()
        with psycopg.connect(private_postgres.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, logs: Callable[[], str] = str
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` (with the processes' logs)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{logs()}")
        time.sleep(0.1)
