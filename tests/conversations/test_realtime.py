"""The statement that stores a publish's events: the one place realtime speaks SQL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from conversations.realtime import PUBLISH_STATEMENT, SUPERVISING_ROLES
from tests.factories import MembershipFactory


def plan(organization_id: int, member_id: int) -> str:
    """The plan of a publish to a member and an organization's supervisors. The tables of
    a test are too small for the planner to bother with an index; with sequential scans
    priced out, it shows which index the statement can use."""
    params: dict[str, Any] = {
        "events": Jsonb([{"type": "x", "data": {}, "to": [member_id], "org": organization_id}]),
        "organizations": [organization_id],
        "roles": list(SUPERVISING_ROLES),
        "now": timezone.now(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + PUBLISH_STATEMENT, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_a_publish_finds_the_supervisors_by_the_index_on_the_organization():
    member = MembershipFactory()

    explained = plan(member.organization_id, member.pk)

    scan = re.search(
        r"Index (Only )?Scan (using|on) (conversations_membership_organization_id\w*)"
        r"[^\n]*\n\s+Index Cond: \(organization_id = ANY",
        explained,
    )
    assert scan, explained
    assert "Seq Scan on conversations_membership" not in explained


@pytest.mark.django_db
def test_a_publish_counts_each_stream_on_by_its_primary_key():
    member = MembershipFactory()

    explained = plan(member.organization_id, member.pk)

    assert "Conflict Arbiter Indexes: conversations_dockstream_pkey" in explained
