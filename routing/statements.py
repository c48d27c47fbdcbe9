"""The reads of a routing decision, each a statement written once per process.

A decision is CPU-bound in the worker, and built as querysets its reads cost more CPU to
build and compile on every call than PostgreSQL spent running them. So they are written
here once from the models' own fields (``conversations.rows``), and their rows become
model instances with what the decision reads of them in their caches: reading
``member.presence``, ``member.user`` or ``conversation.contact`` makes no query. The
rules they serve, and why each is asked where it is, are ``routing.router``'s."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Role,
    User,
)
from conversations.rows import ConversationColumns, ModelColumns, lock_clause, table_of
from presence.models import AgentPresence, PresenceStatus

# The audit entry written the first time a chat finds nobody with room; an assignment
# after it is a "drain" (capacity freed), one without it "least-loaded" (at arrival).
WAITING_REASON = "no-eligible-agent"
WORKING_ROLES = (Role.AGENT.value, Role.SUPERVISOR.value)


def _json_text(column: str, key: str) -> str:
    """The text at ``key`` of the JSON object in ``column``."""
    return f"({column} ->> '{key}')"


# What ends a subquery that PostgreSQL's planner then keeps as one, asked of each row in
# turn, never a join it may start from (``_Members.candidates``).
KEPT = " OFFSET 0"


# The parameters of ``waiting_noted``'s condition.
WAITING_NOTED_PARAMS = (EventKind.QUEUED.value, WAITING_REASON)


def waiting_noted(chat: Mapping[str, str]) -> str:
    """Whether the conversation whose columns are ``chat`` got its waiting note during
    this stay in the queue: the condition, whose parameters are ``WAITING_NOTED_PARAMS``."""
    noted = ModelColumns(ConversationEvent, "e").column
    return (
        f"EXISTS (SELECT 1 FROM {table_of(ConversationEvent)} e"
        f" WHERE {noted['conversation_id']} = {chat['id']} AND {noted['kind']} = %s"
        f" AND {_json_text(noted['data'], 'reason')} = %s"
        f" AND {noted['created_at']} >= {chat['queued_at']})"
    )


class _QueuedChat:
    """The statement that opens every decision: the queued chat, locked, with what the
    decision and its event need of it: its contact, its project, the customer's last agent
    (``last_agent_id``: the agent of their last closed chat on the project within the
    sticky window; the chat itself is queued, so never among them) and whether it got its
    waiting note during this stay in the queue (``has_waited``)."""

    def __init__(self) -> None:
        self.chat = ConversationColumns()
        cv = self.chat.conversation.column
        closed = ModelColumns(Conversation, "h").column
        last_agent = (
            f"(SELECT {closed['agent_id']} FROM {table_of(Conversation)} h"
            f" WHERE {closed['contact_id']} = {cv['contact_id']}"
            f" AND {closed['project_id']} = {cv['project_id']} AND {closed['status']} = %s"
            f" AND {closed['agent_id']} IS NOT NULL AND {closed['closed_at']} >= %s"
            f" ORDER BY {closed['closed_at']} DESC LIMIT 1)"
        )
        select = (
            f"SELECT {', '.join(self.chat.columns)}, {last_agent}, {waiting_noted(cv)}"
            f" FROM {self.chat.from_clause} WHERE {cv['id']} = %s AND {cv['status']} = %s"
        )
        self.waiting = select + lock_clause("cv", no_key=True)
        self.skipping = select + lock_clause("cv", no_key=True, skip_locked=True)

    def read(
        self, conversation_id: int, *, sticky_since: datetime, wait: bool
    ) -> Conversation | None:
        params = [
            ConversationStatus.CLOSED.value,
            connection.ops.adapt_datetimefield_value(sticky_since),
            *WAITING_NOTED_PARAMS,
            conversation_id,
            ConversationStatus.QUEUED.value,
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.waiting if wait else self.skipping, params)
            row = cursor.fetchone()
        if row is None:
            return None
        conversation: Conversation = self.chat.instance(row)
        conversation.last_agent_id, has_waited = row[self.chat.end :]  # type: ignore[attr-defined]
        conversation.has_waited = bool(has_waited)  # type: ignore[attr-defined]
        return conversation


class _Members:
    """Members (alias ``m``) with their user and their presence (None: never set), and
    the statements that read them for a decision."""

    def __init__(self) -> None:
        quote = connection.ops.quote_name
        self.member = ModelColumns(Membership, "m")
        self.user = ModelColumns(User, "u", self.member.end)
        self.presence = ModelColumns(AgentPresence, "p", self.user.end)
        self.end = self.presence.end
        m, u, p = self.member.column, self.user.column, self.presence.column
        self.columns = ", ".join([*self.member.columns, *self.user.columns, *self.presence.columns])
        self.from_clause = (
            f" FROM {table_of(Membership)} m JOIN {table_of(User)} u ON {u['id']} = {m['user_id']}"
            f" LEFT JOIN {table_of(AgentPresence)} p ON {p['membership_id']} = {m['id']}"
        )
        projects = Membership.projects
        self._works_on = (
            f"EXISTS (SELECT 1 FROM {table_of(projects.through)} mp"
            f" WHERE mp.{quote(projects.field.m2m_column_name())} = {{member}}"
            f" AND mp.{quote(projects.field.m2m_reverse_name())} = {{project}}{KEPT})"
        )
        # Who may work the organization's chats of a project.
        works = (
            f"{m['organization_id']} = %s AND {m['role']} IN (%s, %s)"
            f" AND {self._works_on.format(member=m['id'], project='%s')}"
        )
        self.by_id = f"SELECT {self.columns}{self.from_clause} WHERE {m['id']} = %s"
        self.locking = self.by_id + lock_clause("m", no_key=True)
        self.sticky = f"{self.by_id} AND {works}"
        # Only the members' own columns: the choice reads their load, and the read after
        # the lock brings the rest. The project and the presence are asked of each member
        # as the scan meets them, so the planner weighs two plans, not the join orders of
        # three tables: walk the organization's members in load order and stop at the
        # first who passes, or read them all and sort. Next to a 1,000-agent organization
        # a choice at 100 agents took 0.33 ms instead of 0.65, its planning about 0.1 ms
        # instead of 0.3.
        self.candidates = (
            f"SELECT {', '.join(self.member.columns)} FROM {table_of(Membership)} m"
            f" WHERE {works} AND {m['max_open']} > 0"
            f" AND EXISTS (SELECT 1 FROM {table_of(AgentPresence)} p"
            f" WHERE {p['membership_id']} = {m['id']} AND {p['status']} = %s{KEPT})"
        )
        # Least loaded first (open chats over max_open), then whoever has waited longest
        # since their last assignment, never assigned first: the order of the index
        # ``routing_load_order``, which the database walks instead of sorting.
        self.load_order = (
            f" ORDER BY {m['open_conversations']} * 1.0 / {m['max_open']},"
            f" {m['last_assigned_at']} IS NOT NULL, {m['last_assigned_at']}, {m['id']}"
        )
        # Whether anybody of the organization who works chats is Available with room: a
        # pass asks it before each decision that did not show somebody with room left.
        self.room = (
            f"SELECT 1 FROM {table_of(Membership)} m JOIN {table_of(AgentPresence)} p"
            f" ON {p['membership_id']} = {m['id']}"
            f" WHERE {m['organization_id']} = %s AND {m['role']} IN (%s, %s)"
            f" AND {p['status']} = %s AND {m['open_conversations']} < {m['max_open']} LIMIT 1"
        )
        self.speaks = f"{m['languages']} @> to_jsonb(%s::text)"
        self.knows = f"{m['skills']} @> %s::jsonb"
        self.reread = self._reread()

    def _reread(self) -> str:
        """A member by id, and the first queued chat before a position in queue order that
        they could take, other than those held for their own last agent: another worker
        may be deciding on it right now (``skip_locked``)."""
        m = self.member.column
        where = f" WHERE {m['id']} = %s"
        q = ModelColumns(Conversation, "q").column
        # Who could take the chat, and queued at all ('queued' written out, so the
        # partial index ``queue_order`` applies to every plan, generic ones too).
        fits = (
            f"{q['organization_id']} = {m['organization_id']}"
            f" AND {q['status']} = '{ConversationStatus.QUEUED.value}'"
            f" AND {self._works_on.format(member=m['id'], project=q['project_id'])}"
            f" AND {q['required_skills']} <@ {m['skills']}"
            f" AND ({q['language']} = '' OR {m['languages']} @> to_jsonb({q['language']}))"
            f" AND NOT ({q['id']} = ANY(%s::bigint[]))"
        )
        # Queue order is priority descending, then queued_at and id ascending. "Before"
        # is asked as two ranges of the index ``queue_order``: a higher priority, then the
        # same priority and (queued_at, id) lower. The scan reads only the chats before
        # the position. Asked as one row comparison on (-priority, queued_at, id), which
        # no index can serve, it read the organization's whole queue on every decision:
        # 0.75 ms at 1,000 queued chats, and more with every chat that waits.
        earlier = (
            f"(SELECT e.id FROM ((SELECT {q['id']} AS id, 0 AS part FROM {table_of(Conversation)} q"
            f" WHERE {fits} AND {q['priority']} > %s"
            f" ORDER BY {q['priority']} DESC, {q['queued_at']}, {q['id']} LIMIT 1)"
            f" UNION ALL (SELECT {q['id']}, 1 FROM {table_of(Conversation)} q"
            f" WHERE {fits} AND {q['priority']} = %s"
            f" AND ({q['queued_at']}, {q['id']}) < (%s, %s)"
            f" ORDER BY {q['queued_at']}, {q['id']} LIMIT 1)) e ORDER BY e.part LIMIT 1)"
        )
        return f"SELECT {self.columns}, {earlier}{self.from_clause}{where}"

    def instance(self, row: tuple[Any, ...]) -> Membership:
        member: Membership = self.member.instance(row)
        member.user = self.user.instance(row)
        Membership._meta.get_field("presence").set_cached_value(  # type: ignore[union-attr]
            member, self.presence.instance(row)
        )
        return member

    def _fetch(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def anyone_has_room(self, organization_id: int) -> bool:
        return bool(
            self._fetch(
                self.room, [organization_id, *WORKING_ROLES, PresenceStatus.AVAILABLE.value]
            )
        )

    def lock(self, member_id: int) -> Membership:
        """The member, their row locked (``FOR NO KEY UPDATE``) until commit."""
        (row,) = self._fetch(self.locking, [member_id])
        return self.instance(row)

    def working_on(self, member_id: int, conversation: Conversation) -> Membership | None:
        """The member, if they work the chats of ``conversation``'s project."""
        rows = self._fetch(
            self.sticky,
            [member_id, conversation.organization_id, *WORKING_ROLES, conversation.project_id],
        )
        return self.instance(rows[0]) if rows else None

    def best_available(
        self,
        conversation: Conversation,
        *,
        language: str,
        skills: list[str],
        skip_locked: bool,
    ) -> list[Membership]:
        """The first of the Available members who work on ``conversation``'s project,
        speak ``language`` and know ``skills``, least loaded first: room is not filtered,
        the full ones sort last. With ``skip_locked``, the first that no other
        transaction holds, locked. Read without user and presence."""
        sql = self.candidates
        params: list[Any] = [
            conversation.organization_id,
            *WORKING_ROLES,
            conversation.project_id,
            PresenceStatus.AVAILABLE.value,
        ]
        if language:
            sql += f" AND {self.speaks}"
            params.append(language)
        if skills:
            sql += f" AND {self.knows}"
            params.append(json.dumps(skills))
        sql += self.load_order + " LIMIT 1"
        if skip_locked:
            sql += lock_clause("m", no_key=True, skip_locked=True)
        return [self.member.instance(row) for row in self._fetch(sql, params)]

    def read_locked(
        self, member_id: int, conversation: Conversation, held: Collection[int]
    ) -> tuple[Membership, int | None]:
        """A member whose row the caller's transaction has locked, read by a fresh
        statement, and the earliest queued chat before ``conversation`` they could take
        (None: none)."""
        held_ids = list(held)
        params = [
            held_ids,
            conversation.priority,
            held_ids,
            conversation.priority,
            conversation.queued_at,
            conversation.pk,
        ]
        (row,) = self._fetch(self.reread, [*params, member_id])
        return self.instance(row), row[self.end]


@cache
def queued_chat() -> _QueuedChat:
    return _QueuedChat()


@cache
def members() -> _Members:
    return _Members()
