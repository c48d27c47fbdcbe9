"""The plan of a search: the words are found through the ``message_words`` and
``contact_words`` indexes, in a plan made for the call's values and in the generic plan
of a prepared statement alike. In a test's few rows walking the conversations first is
cheapest, so that way (nested loops) and sequential scans are priced out: a plan that
still reads the messages or contacts otherwise says the query's expression no longer
matches the index's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest
from django.db import connection, transaction
from psycopg import sql

from conversations import search, selectors
from conversations.models import Role
from tests.factories import ConversationFactory, MembershipFactory, MessageFactory

pytestmark = pytest.mark.django_db


def _explain(query: str, params: Sequence[Any], *, generic: bool) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_nestloop = off")
        if not generic:
            cursor.execute(f"EXPLAIN (COSTS OFF) {query}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        numbered = iter(range(1, len(params) + 1))
        prepared = re.sub("%s", lambda _: f"${next(numbered)}", query)
        literals = ", ".join(sql.Literal(p).as_string(connection.connection) for p in params)
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE search_plan AS {prepared}")
        try:
            cursor.execute(f"EXPLAIN (COSTS OFF) EXECUTE search_plan({literals})")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE search_plan")


@pytest.fixture
def supervisor():
    member = MembershipFactory(role=Role.SUPERVISOR)
    chat = ConversationFactory(channel__organization=member.organization, agent=member)
    MessageFactory(conversation=chat, text="the router keeps dropping")
    return member


@pytest.mark.parametrize("generic", [False, True], ids=["custom", "generic"])
def test_a_search_reads_the_messages_through_the_words_index(supervisor, generic):
    found = search.conversations_matching(
        selectors.visible_conversations(member=supervisor), "router dropping"
    )
    query, params = found.query.sql_with_params()

    plan = _explain(query, params, generic=generic)

    assert "Bitmap Index Scan on message_words" in plan, plan
    assert "Bitmap Index Scan on contact_words" in plan, plan
    assert not re.search(r"Seq Scan on conversations_(message|contact)\b", plan), plan
    assert list(found) == [supervisor.conversations.get()]


def test_the_words_of_a_search_cannot_break_out_of_the_query():
    assert search.search_words("it's a 'quote' & (or) | !not :*") == [
        "it",
        "s",
        "a",
        "quote",
        "or",
        "not",
    ]
