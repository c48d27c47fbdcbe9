"""The open conversations a delivery writes into, locked, read by one statement written
once per process (``conversations.rows``).

Recording a delivery starts by locking the open conversations of the customers it names,
with their contact, project and agent (the events it publishes show them). Built as a
queryset, that statement cost more CPU to build and compile on every call than the rest
of a one-message recording pass together, and at a quiet hour every message is a pass of
its own. The related objects are put in their caches: reading ``conversation.agent.user``
makes no query."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any

from django.db import connection

from conversations.models import (
    Contact,
    Conversation,
    ConversationStatus,
    Membership,
    User,
)
from conversations.rows import (
    ConversationColumns,
    ModelColumns,
    column_of,
    field_of,
    lock_clause,
    table_of,
)


class _Statement:
    def __init__(self) -> None:
        self.chat = ConversationColumns()
        self.agent = ModelColumns(Membership, "mb", self.chat.end)
        self.user = ModelColumns(User, "us", self.agent.end)
        cv, mb, us = self.chat.conversation.column, self.agent.column, self.user.column
        columns = ", ".join([*self.chat.columns, *self.agent.columns, *self.user.columns])
        # The customers are found first (by the unique ids of the organization's contacts),
        # then their open conversations: a plan that holds whatever the planner's
        # statistics say, as fresh tables have none.
        self.head = (
            f"SELECT {columns} FROM {self.chat.from_clause}"
            f" LEFT JOIN {table_of(Membership)} mb ON {mb['id']} = {cv['agent_id']}"
            f" LEFT JOIN {table_of(User)} us ON {us['id']} = {mb['user_id']}"
            f" WHERE {cv['channel_id']} = %s AND {cv['status']} <> %s"
            f" AND {cv['contact_id']} IN (SELECT {column_of(Contact._meta.pk)}"
            f" FROM {table_of(Contact)} WHERE"
            f" {column_of(field_of(Contact, 'organization'))} = %s AND ("
        )
        keys = {name: field_of(Contact, name) for name in ("id", "wa_id", "user_id")}
        self.keys = {name: column_of(field) for name, field in keys.items()}
        self.array_types = {name: f"{field.db_type(connection)}[]" for name, field in keys.items()}
        self.tail = f")) ORDER BY {cv['id']}{lock_clause('cv')}"

    def sql(self, keys: dict[str, Collection[int | str]]) -> tuple[str, list[Any]]:
        """The statement and its parameters for the contacts named by ``keys`` (the kinds
        of key with no values are left out of it). One array per kind: the text stays the
        same whatever the number of customers, so psycopg converts it once and PostgreSQL
        keeps its plan (with a ``%s`` per customer a two-hundred-message pass was planned
        anew each time)."""
        conditions: list[str] = []
        params: list[Any] = []
        for name, values in keys.items():
            if not values:
                continue
            conditions.append(f"{self.keys[name]} = ANY(%s::{self.array_types[name]})")
            params.append(list(values))
        return self.head + " OR ".join(conditions) + self.tail, params

    def conversations(self, rows: list[tuple[Any, ...]]) -> list[Conversation]:
        found = []
        for row in rows:
            conversation = self.chat.instance(row)
            agent = self.agent.instance(row)
            if agent is not None:
                agent.user = self.user.instance(row)
            conversation.agent = agent
            found.append(conversation)
        return found


@cache
def _statement() -> _Statement:
    return _Statement()


def lock_open_conversations(
    *,
    channel_id: int,
    organization_id: int,
    contact_ids: Collection[int] = (),
    wa_ids: Collection[str] = (),
    user_ids: Collection[str] = (),
) -> list[Conversation]:
    """The open (queued or assigned) conversations on the channel of the contacts named by
    id, WhatsApp id or WhatsApp user id, oldest first, locked until the caller's
    transaction ends, with contact, project and agent (and the agent's user) loaded."""
    statement = _statement()
    sql, keys = statement.sql({"id": contact_ids, "wa_id": wa_ids, "user_id": user_ids})
    if not keys:
        return []
    params: list[Any] = [channel_id, ConversationStatus.CLOSED.value, organization_id, *keys]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return statement.conversations(rows)
