"""What the processes print: JSON lines of everything in production, and at the console
of ``make run`` (``LOG_FORMAT=human``) what happens to the chats and nothing routine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cxgear.logging import logging_config

ROOT = Path(__file__).resolve().parent.parent

# A chat assigned, the worker's line for every task it runs, and a warning.
LINES = """
import logging, django
django.setup()
logging.getLogger("cxgear.activity").info("chat %s assigned to %s", 7, "ana@demo.cxgear.test")
logging.getLogger("celery.app.trace").info("Task routing.tasks.route_queue[1] succeeded")
logging.getLogger("routing.router").warning("pass lock not let go")
"""


def printed(log_format: str) -> list[str]:
    env = {**os.environ, "LOG_FORMAT": log_format, "LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "-c", LINES], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_the_human_console_shows_what_happens_to_chats_and_warnings_only():
    lines = printed("human")

    assert len(lines) == 2, lines
    assert re.fullmatch(r"\d\d:\d\d:\d\d  chat 7 assigned to ana@demo\.cxgear\.test", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d  WARNING routing\.router: pass lock not let go", lines[1])


def test_production_logs_every_line_as_json():
    entries = [json.loads(line) for line in printed("json")]

    assert [(e["logger"], e["level"]) for e in entries] == [
        ("cxgear.activity", "INFO"),
        ("celery.app.trace", "INFO"),
        ("routing.router", "WARNING"),
    ]


def test_an_unknown_log_format_stops_the_process():
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(log_format="pretty", level="INFO")
