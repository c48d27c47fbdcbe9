"""A pooled connection is checked as it is handed out: one the server dropped is refused
(and replaced by the pool), a live one is handed out as it is."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

from cxgear.postgresql.base import check_connection

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
