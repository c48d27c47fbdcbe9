"""A real Celery worker with embedded beat for tests that need one.

Use the ``celery_worker`` fixture from a ``transaction=True`` test (the worker is another
process: it sees only committed rows). It runs ``celery -A cxgear worker -B`` against the
test database and the Redis of the test run; a test module changes the worker's settings
by overriding the ``celery_worker_env`` fixture. While it runs, tasks the test enqueues go
to that worker instead of running in the test's process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from cxgear.celery import app as celery_app

START_TIMEOUT = 120.0


def database_url() -> str:
    """The URL of the database this test process uses (the test database)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(condition: Callable[[], Any], *, timeout: float, interval: float = 0.25) -> Any:
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after {timeout} s: {condition.__doc__ or condition}")
        time.sleep(interval)


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    """Extra settings (environment) for the worker; override in a test module."""
    return {}


@pytest.fixture
def celery_worker(
    transactional_db: None, tmp_path: Path, celery_worker_env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "cxgear.settings",
        **celery_worker_env,
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    log_path = tmp_path / "worker.log"
    celery_app.control.purge()  # tasks left by an earlier run name rows that are gone
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "cxgear",
                "worker",
                "-B",
                "--schedule",
                str(tmp_path / "beat-schedule"),
                "--concurrency",
                "1",
                "--hostname",
                name,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not celery_app.control.ping(destination=[name], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-4000:]}")
        yield worker
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
