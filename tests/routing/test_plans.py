"""The plans of routing's hottest reads: each walks the index it was written for, whatever
the size of the organization. The planner is told to avoid every other way (a sequential
scan, a bitmap scan, a sort), so a plan that still takes one says that the index cannot
serve the query at all: an expression that no longer matches the index's, a condition the
partial index cannot prove."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection, transaction
from psycopg import sql

from routing import queries

pytestmark = pytest.mark.django_db


def _only_indexes() -> None:
    with connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")


def plan(query: str, params: Sequence[Any]) -> str:
    """The plan PostgreSQL makes for ``query`` with these values."""
    with transaction.atomic():
        _only_indexes()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (COSTS OFF) {query}", params)
            return "\n".join(row[0] for row in cursor.fetchall())


def generic_plan(query: str, params: Sequence[Any]) -> str:
    """The plan a prepared ``query`` gets once PostgreSQL stops planning it for each call's
    values: one that must hold for any of them."""
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub("%s", lambda _: f"${next(numbered)}", query)
    literals = ", ".join(sql.Literal(p).as_string(connection.connection) for p in params)
    with transaction.atomic():
        _only_indexes()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            cursor.execute(f"PREPARE routing_plan AS {prepared}")
            try:
                cursor.execute(f"EXPLAIN (COSTS OFF) EXECUTE routing_plan({literals})")
                return "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("DEALLOCATE routing_plan")


def scans_of(table: str, found: str) -> list[str]:
    """The plan's scans of ``table`` itself, not of a table whose name begins with it."""
    on_table = re.compile(rf"Scan .* on {table}( |$)")
    return [line.strip() for line in found.splitlines() if on_table.search(line)]


def test_the_chat_ahead_is_two_ranges_of_the_queue_order_index_in_any_plan(desk):
    agent = desk.agent(languages=["en"], skills=["billing"])
    chat = desk.chat()
    ahead = queries.chat_ahead(agent, chat, held=[chat.pk + 1])

    found = generic_plan(ahead.sql, ahead.params)

    walks = scans_of("conversations_conversation", found)
    assert len(walks) == 2, found
    assert all(walk.startswith("->  Index Scan using queue_order") for walk in walks), found
    # Each range starts and ends in the index, not filtered row by row after it.
    assert "(priority > $" in found, found
    assert "(ROW(queued_at, id) < ROW($" in found, found


def test_the_agents_are_walked_in_load_order_by_the_index_not_sorted(desk):
    desk.agent(languages=["en"], skills=["billing"])
    chat = desk.chat(language="en", required_skills=["billing"])
    # The decision's own read of the candidates.
    candidates = queries.eligible_for(chat).by_load().with_room().locked(skip_locked=True)[:1]

    found = plan(*candidates.query.sql_with_params())

    walks = scans_of("conversations_membership", found)
    assert walks == ["->  Index Scan using routing_load_order on conversations_membership"], found
    assert "Sort" not in found, found
