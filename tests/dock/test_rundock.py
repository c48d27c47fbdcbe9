"""``manage.py rundock``, as ``make run`` starts it: the whole product on one machine,
a console a person can read, and Ctrl-C stopping every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from conversations.demo import bootstrap_demo
from cxgear.management.commands.rundock import _where
from tests.celery_worker import database_url
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def marked(marker: str) -> list[str]:
    """The command lines of the processes still running with ``marker`` in their
    environment: everything rundock started inherits it."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def test_the_console_shows_the_banner_then_the_chats_and_ctrl_c_stops_every_process(
    tmp_path,
):
    bootstrap_demo()
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "PYTEST_CURRENT_TEST"}}
    env |= {
        "CXGEAR_RUNDOCK_TEST": marker,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONUNBUFFERED": "1",
    }
    ports = [str(free_port()) for _ in range(3)]
    console = tmp_path / "console.txt"
    argv = [sys.executable, "manage.py", "rundock", "--rate", "2"]
    argv += ["--port", ports[0], "--fake-cloud-port", ports[1], "--http-port", ports[2]]
    with console.open("wb") as out:
        # A session of its own: the interrupt below reaches its process group as a
        # terminal's Ctrl-C reaches the foreground one.
        rundock = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while not re.search(r"chat \d+ arrived from", console.read_text()):
            assert rundock.poll() is None, console.read_text()
            assert time.monotonic() < deadline, console.read_text()
            time.sleep(0.5)
        assert len(marked(marker)) > 5  # servers, worker, beat, simulator and rundock

        os.killpg(rundock.pid, signal.SIGINT)
        rundock.wait(timeout=60)
    finally:
        if rundock.poll() is None:
            os.killpg(rundock.pid, signal.SIGKILL)

    assert marked(marker) == []
    text = console.read_text()
    banner, activity = text.split("Ctrl-C stops everything.", 1)
    assert "ana@demo.cxgear.test" in banner
    assert f"Dock:        http://127.0.0.1:{ports[0]}/dock/" in banner
    # The demo number's templates, read from the fake Cloud API it started.
    assert re.search(r"Templates: +\d+ approved, synced", banner), banner
    assert not [line for line in text.splitlines() if line.startswith("{")], "JSON lines"
    assert not re.search(r"HTTP/1\.1|POST /webhooks", text), "a line per request"
    chats = [line for line in activity.splitlines() if re.match(r"\d\d:\d\d:\d\d  chat \d+", line)]
    assert chats, activity


def test_the_banner_names_where_the_data_is_without_its_password():
    where = _where("postgres://postgres:secret@127.0.0.1:5432/cxgear", "redis://127.0.0.1:6379/0")

    assert where == "PostgreSQL 127.0.0.1:5432/cxgear, Redis 127.0.0.1:6379/0"
