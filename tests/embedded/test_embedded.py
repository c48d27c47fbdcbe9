"""``make run`` with nothing configured: SQLite and everything inside one process. The
suite's own database is PostgreSQL, so this mode is proved in processes of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'first-look.sqlite3'}", LOG_LEVEL="WARNING")
    return env


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_a_fresh_sqlite_database_migrates_and_routes_a_returning_customer_to_their_agent(
    tmp_path,
):
    env = embedded_env(tmp_path)
    run(env, "manage.py", "migrate", "--noinput")

    shift = json.loads(run(env, "-m", "tests.embedded.shift").strip().splitlines()[-1])

    first_agent, second_agent, ana = shift["agents"]
    assert first_agent == second_agent == ana
    assert shift["status"] == "assigned"
    assert shift["rules"] == ["least-loaded", "sticky"]
    assert shift["open"] == 1
