"""Settings that would give the project a second shape stop it at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_database_other_than_postgresql_stops_the_process_without_showing_its_url():
    env = {**os.environ, "DATABASE_URL": "mysql://app:secret@127.0.0.1/cxgear"}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert done.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database, not mysql:" in done.stderr
    assert "secret" not in done.stderr
