"""A pooled connection is checked as it is handed out, a persistent one before each
request's first use: one the server dropped is refused (and replaced), a live one is
used as it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection

from cxgear.postgresql import connection_handling
from cxgear.postgresql.base import DatabaseWrapper, check_connection

pytestmark = pytest.mark.django_db


def connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


def test_a_live_connection_passes_the_check():
    with connect() as conn:
        check_connection(conn)
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_connection_the_server_dropped_is_refused():
    with connect() as victim, connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [victim.info.backend_pid])
        time.sleep(0.2)  # the server's goodbye reaches the socket
        with pytest.raises(psycopg.OperationalError):
            check_connection(victim)


def test_a_statement_run_again_on_a_connection_is_planned_once_and_kept():
    """The hot paths' statements are the same text on every call: from the second run
    on, the server keeps its plan (a prepared statement) instead of planning again."""
    statement = "SELECT count(*) FROM conversations_conversation WHERE status = %s"

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%FROM conversations_conversation WHERE status = $1"],
            )
            return cursor.fetchone()[0]

    with connection.cursor() as cursor:
        cursor.execute(statement, ["queued"])
        assert prepared() == 0
        cursor.execute(statement, ["closed"])
        assert cursor.fetchone() == (0,)
    assert prepared() == 1


def persistent_wrapper() -> DatabaseWrapper:
    """A connection held as a WSGI server's thread holds it (``DATABASE_CONNECTIONS``
    persistent): no pool, kept across requests, checked before each request's first use."""
    handling = connection_handling("persistent")
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": handling.max_age,
        "CONN_HEALTH_CHECKS": handling.health_checks,
        "OPTIONS": {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "pool"},
    }
    return DatabaseWrapper(settings_dict, alias="persistent")


def test_a_persistent_connection_is_kept_while_it_lives_and_replaced_once_dropped():
    wrapper = persistent_wrapper()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (first,) = cursor.fetchone()
        wrapper.close_if_unusable_or_obsolete()  # a request ends, the next one starts
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == (first,)

        with connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [first])
        time.sleep(0.2)  # the server's goodbye reaches the socket
        assert not wrapper.is_usable()
        wrapper.close_if_unusable_or_obsolete()
        with wrapper.cursor() as cursor:  # the next request: a new connection, no error
            cursor.execute("SELECT pg_backend_pid()")
            (second,) = cursor.fetchone()
        assert second != first
    finally:
        wrapper.close()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("pool", "0 False pool"),
        ("persistent", "None True no pool"),
        ("", "0 False pool"),
    ],
)
def test_settings_hold_connections_as_told(mode, expected):
    shown = connection_settings(mode)
    assert shown.stdout.strip() == expected, shown.stderr


def test_settings_refuse_an_unknown_connection_mode():
    shown = connection_settings("per-request")
    assert shown.returncode != 0
    assert "DATABASE_CONNECTIONS must be pool or persistent" in shown.stderr


def connection_settings(mode: str) -> subprocess.CompletedProcess[str]:
    """What settings make of ``DATABASE_CONNECTIONS=mode``, read in a fresh process."""
    return subprocess.run(
        [sys.executable, "-c", SHOW_CONNECTION_SETTINGS],
        env={**os.environ, "DATABASE_CONNECTIONS": mode},
        capture_output=True,
        text=True,
        timeout=60,
    )


SHOW_CONNECTION_SETTINGS = """
import django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"], "pool" if "pool" in db["OPTIONS"] else "no pool")
"""
