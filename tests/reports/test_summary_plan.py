"""The plan of the summary report's one statement: the period's messages are read once
for every figure, each conversation's through ``thread_order`` (its audit trail through
``trail_order``), and a short period finds its conversations through
``conversation_opened`` instead of reading the organization's history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction

from reports.summary import FIRST_REPLY_EDGES, summary_statement
from tests.reports.conftest import Month

pytestmark = pytest.mark.django_db


def explain(*, organization_id: int, start: datetime, end: datetime, **only: str) -> Any:
    params: dict[str, Any] = {
        "organization": organization_id,
        "start": start,
        "end": end,
        "project": None,
        "agent": None,
        "zone": "UTC",
        "edges": list(FIRST_REPLY_EDGES),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        for setting, value in only.items():
            cursor.execute(f"SET LOCAL {setting} = {value}")
        sql = summary_statement(project_id=None, agent_id=None)
        cursor.execute(f"EXPLAIN (FORMAT JSON, COSTS OFF) {sql}", params)
        found = cursor.fetchone()[0]
    return found[0]["Plan"] if isinstance(found, list) else json.loads(found)[0]["Plan"]


def nodes(plan: Any, in_subplan: bool = False) -> Iterator[tuple[Any, bool]]:
    inside = in_subplan or plan.get("Parent Relationship") == "SubPlan"
    yield plan, inside
    for child in plan.get("Plans", []):
        yield from nodes(child, inside)


def test_every_figure_comes_from_one_read_of_the_messages(month: Month):
    plan = explain(
        organization_id=month.supervisor.organization_id,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
    )

    reads = [
        node
        for node, in_subplan in nodes(plan)
        if node.get("Relation Name") == "conversations_message" and not in_subplan
    ]
    assert len(reads) == 1, json.dumps(plan, indent=1)


def test_a_days_report_finds_its_conversations_by_the_opened_index(month: Month):
    plan = explain(
        organization_id=month.supervisor.organization_id,
        start=datetime(2026, 3, 10, tzinfo=UTC),
        end=datetime(2026, 3, 11, tzinfo=UTC),
        enable_seqscan="off",
    )

    scans = [
        node for node, _ in nodes(plan) if node.get("Relation Name") == "conversations_conversation"
    ]
    assert scans, json.dumps(plan, indent=1)
    assert all(node.get("Index Name") == "conversation_opened" for node in scans), json.dumps(
        plan, indent=1
    )


def test_each_conversations_messages_and_trail_are_counted_through_their_indexes(month: Month):
    with connection.cursor() as cursor:  # as autovacuum would have
        cursor.execute("ANALYZE conversations_message, conversations_conversationevent")
    plan = explain(
        organization_id=month.supervisor.organization_id,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
    )

    tables = ("conversations_message", "conversations_conversationevent")
    read_whole = [
        node
        for node, _ in nodes(plan)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in tables
    ]
    indexes = {node.get("Index Name") for node, _ in nodes(plan)}
    assert not read_whole, json.dumps(plan, indent=1)
    assert {"thread_order", "trail_order"} <= indexes, json.dumps(plan, indent=1)
    # ``direction`` is in the index: the messages themselves are not read.
    [messages] = [n for n, _ in nodes(plan) if n.get("Relation Name") == "conversations_message"]
    assert messages["Node Type"] == "Index Only Scan", json.dumps(plan, indent=1)
