"""The summary report: what happened to the conversations that opened in a period.

Every figure is about the conversations that *opened* (``created_at``) in the period, of
the organization, and of one project and one agent when asked: their messages, their
first reply, their handling, their transfers. A conversation belongs to the period it
opened in, even when its thread runs on past the end.

- **messages in / out**: the customer's messages and the messages sent to the customer;
  internal notes (``direction = 'note'``) are neither.
- **first reply**: the conversation's ``first_reply_at`` less its ``first_inbound_at``,
  as the core records them (``conversations.sla``: from the customer's first message to
  the first outbound message after it; a note is never a reply). A conversation whose
  customer never wrote, or not answered yet, has none.
- **handle time**: from the conversation's first assignment (its first ``assigned``
  event in the audit trail; ``assigned_at`` moves with each transfer) to its close.
  Open conversations have none.
- **SLA met**: the first reply came by the conversation's ``sla_due_at`` (set from the
  project's target when the customer first wrote). Counted over the conversations with a
  deadline once they were answered or the core recorded their breach
  (``sla_breached_at``: the deadline passed unanswered while open); those still inside
  it, or closed unanswered before it, are not decided. ``null`` when no conversation is
  counted.
- **transfers**: ``transferred`` events in the audit trail.
- **per agent**: the same figures over the conversations each agent has (or closed);
  chats no agent took are one row with ``agent`` null.

Medians and the 90th percentile are PostgreSQL's ``percentile_cont`` (interpolated).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from conversations.models import Membership
from reports.periods import Period

# Edges (seconds) of the first-reply distribution's buckets: ``width_bucket`` numbers
# them 0 (below the first edge) to 6 (from the last edge on).
FIRST_REPLY_EDGES = (30, 60, 120, 300, 600, 1800)

# One pass over the period's conversations feeds every figure of the report: the totals,
# the agents' rows, the hours, the days and the first-reply buckets are grouping sets of
# aggregates over one row of facts per conversation.
#
# Written by hand because the ORM can say neither GROUPING SETS nor a second grouping
# over a grouped subquery; five ORM aggregates would read the month's messages five
# times, more than the report's time allows (bench/reports.py). The first reply and the
# target are the conversation's own (``conversations.sla`` defines and records each
# moment); of its thread and its audit trail the report needs only counts and the first
# assignment, taken per conversation from ``thread_order`` and ``trail_order``, which
# carry ``direction`` and ``kind`` so that neither table itself is read, nor the whole
# period's messages hashed and grouped. ``tests/reports/test_summary_plan.py`` pins the
# plan.
SUMMARY_SQL = """
WITH facts AS (
    SELECT c.agent_id, thread.messages_in, thread.messages_out, trail.transfers,
           extract(hour FROM c.created_at AT TIME ZONE %(zone)s)::integer AS hour,
           (c.created_at AT TIME ZONE %(zone)s)::date AS day,
           extract(epoch FROM c.first_reply_at - c.first_inbound_at)::float8
               AS first_reply_seconds,
           extract(epoch FROM c.closed_at - trail.first_assigned_at)::float8 AS handle_seconds,
           -- Decided once answered (in time or not) or once the core recorded a breach.
           CASE
               WHEN c.sla_due_at IS NULL THEN NULL
               WHEN c.first_reply_at IS NOT NULL THEN c.first_reply_at <= c.sla_due_at
               WHEN c.sla_breached_at IS NOT NULL THEN false
           END AS sla_met
    FROM conversations_conversation c
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE m.direction = 'in') AS messages_in,
               count(*) FILTER (WHERE m.direction = 'out') AS messages_out
        FROM conversations_message m
        WHERE m.conversation_id = c.id
    ) AS thread
    CROSS JOIN LATERAL (
        SELECT min(e.created_at) FILTER (WHERE e.kind = 'assigned') AS first_assigned_at,
               count(*) FILTER (WHERE e.kind = 'transferred') AS transfers
        FROM conversations_conversationevent e
        WHERE e.conversation_id = c.id
    ) AS trail
    WHERE {scope}
)
-- The medians and percentiles sort their values within each group, so they are asked
-- only of the sets that show them; the days and the buckets are counts and shares.
SELECT CASE WHEN grouping(agent_id) = 1 THEN 15 ELSE 7 END AS grouping_set,
       agent_id, NULL::integer AS hour, NULL::date AS day, NULL::integer AS bucket,
       count(*) AS conversations,
       sum(messages_in)::bigint AS messages_in,
       sum(messages_out)::bigint AS messages_out,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply_seconds) AS first_reply_p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY first_reply_seconds) AS first_reply_p90,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY handle_seconds) AS handle_p50,
       avg(sla_met::integer)::float8 AS sla_met_share,
       count(sla_met) AS sla_counted,
       sum(transfers)::bigint AS transfers
FROM facts
GROUP BY GROUPING SETS ((), (agent_id))
UNION ALL
SELECT 11, NULL, hour, NULL, NULL,
       count(*), sum(messages_in)::bigint, sum(messages_out)::bigint,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY first_reply_seconds), NULL, NULL,
       avg(sla_met::integer)::float8, count(sla_met), sum(transfers)::bigint
FROM facts
GROUP BY hour
UNION ALL
SELECT CASE WHEN grouping(day) = 0 THEN 13 ELSE 14 END, NULL, NULL, day, bucket,
       count(*), sum(messages_in)::bigint, sum(messages_out)::bigint, NULL, NULL, NULL,
       avg(sla_met::integer)::float8, count(sla_met), sum(transfers)::bigint
FROM (SELECT day, sla_met, messages_in, messages_out, transfers,
             width_bucket(first_reply_seconds, %(edges)s::float8[]) AS bucket
      FROM facts) AS bucketed
GROUP BY GROUPING SETS ((day), (bucket))
"""

# Which grouping set a row of ``SUMMARY_SQL`` belongs to: a bit for each of (agent_id,
# hour, day, bucket) that the set does not group by, the first the highest.
TOTAL, BY_AGENT, BY_HOUR, BY_DAY, BY_BUCKET = 0b1111, 0b0111, 0b1011, 0b1101, 0b1110

FIGURES = (
    "conversations",
    "messages_in",
    "messages_out",
    "first_reply_p50_seconds",
    "first_reply_p90_seconds",
    "handle_p50_seconds",
    "sla_met_share",
    "transfers",
)


def summary_statement(*, project_id: int | None, agent_id: int | None) -> str:
    """``SUMMARY_SQL`` narrowed to a project and an agent when asked: a condition is
    present or absent, never ``param IS NULL OR ...``, which no index serves."""
    scope = [
        "c.organization_id = %(organization)s",
        "c.created_at >= %(start)s",
        "c.created_at < %(end)s",
    ]
    if project_id is not None:
        scope.append("c.project_id = %(project)s")
    if agent_id is not None:
        scope.append("c.agent_id = %(agent)s")
    return SUMMARY_SQL.replace("{scope}", " AND ".join(scope))


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    share = row["sla_met_share"]
    return {
        "conversations": row["conversations"],
        "messages_in": row["messages_in"] or 0,
        "messages_out": row["messages_out"] or 0,
        "first_reply_p50_seconds": _seconds(row["first_reply_p50"]),
        "first_reply_p90_seconds": _seconds(row["first_reply_p90"]),
        "handle_p50_seconds": _seconds(row["handle_p50"]),
        "sla_met_share": None if share is None else round(share, 4),
        "sla_counted": row["sla_counted"],
        "transfers": row["transfers"] or 0,
    }


EMPTY = _figures(
    {
        "conversations": 0,
        "messages_in": 0,
        "messages_out": 0,
        "first_reply_p50": None,
        "first_reply_p90": None,
        "handle_p50": None,
        "sla_met_share": None,
        "sla_counted": 0,
        "transfers": 0,
    }
)


def summary_rows(
    *, organization_id: int, period: Period, project_id: int | None, agent_id: int | None
) -> list[dict[str, Any]]:
    """The rows of ``SUMMARY_SQL``: one per grouping set and group."""
    params: dict[str, Any] = {
        "organization": organization_id,
        "start": period.start,
        "end": period.end,
        "project": project_id,
        "agent": agent_id,
        "zone": timezone.get_current_timezone_name(),
        "edges": list(FIRST_REPLY_EDGES),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The statement's estimated cost passes PostgreSQL's JIT threshold at any size, and
        # compiling it costs more than running it: most of the time of a month's report.
        cursor.execute("SET LOCAL jit = off")
        # The grouping sets sort the period's conversations once per set: in memory.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(summary_statement(project_id=project_id, agent_id=agent_id), params)
        columns = [c.name for c in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _bucket_label(index: int) -> str:
    edges = (0, *FIRST_REPLY_EDGES)
    if index >= len(FIRST_REPLY_EDGES):
        return f"{_short(edges[-1])}+"
    return f"{_short(edges[index])}-{_short(edges[index + 1])}"


def _short(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds >= 60 and seconds % 60 == 0 else f"{seconds}s"


def report_summary(
    *, member: Membership, period: Period, project_id: int | None, agent_id: int | None
) -> dict[str, Any]:
    """The summary of ``member``'s organization over ``period``: the totals, a row per
    agent and the series the page draws (by hour of day, by day, first-reply buckets)."""
    rows = summary_rows(
        organization_id=member.organization_id,
        period=period,
        project_id=project_id,
        agent_id=agent_id,
    )
    total = next((_figures(r) for r in rows if r["grouping_set"] == TOTAL), dict(EMPTY))
    names = dict(
        Membership.objects.filter(
            organization_id=member.organization_id,
            pk__in=[r["agent_id"] for r in rows if r["grouping_set"] == BY_AGENT],
        ).values_list("pk", "user__email")
    )
    agents = sorted(
        (
            {"agent": r["agent_id"], "email": names.get(r["agent_id"], "")} | _figures(r)
            for r in rows
            if r["grouping_set"] == BY_AGENT
        ),
        key=lambda a: (a["agent"] is None, a["email"], a["agent"] or 0),
    )
    hours = {r["hour"]: r for r in rows if r["grouping_set"] == BY_HOUR}
    days = {r["day"]: r for r in rows if r["grouping_set"] == BY_DAY}
    buckets = {r["bucket"]: r for r in rows if r["grouping_set"] == BY_BUCKET}
    return {
        "from": period.start,
        "to": period.end,
        "timezone": timezone.get_current_timezone_name(),
        "project": project_id,
        "agent": agent_id,
        **total,
        "agents": agents,
        "by_hour": [_hour(h, hours.get(h)) for h in range(24)],
        "by_day": [_day(d, days.get(d)) for d in period.days],
        "first_reply_distribution": [
            {
                "bucket": _bucket_label(b),
                "from_seconds": (0, *FIRST_REPLY_EDGES)[b],
                "conversations": buckets[b]["conversations"] if b in buckets else 0,
            }
            for b in range(len(FIRST_REPLY_EDGES) + 1)
        ],
    }


def _hour(hour: int, row: Mapping[str, Any] | None) -> dict[str, Any]:
    figures = _figures(row) if row else EMPTY
    return {
        "hour": hour,
        "conversations": figures["conversations"],
        "messages_in": figures["messages_in"],
        "first_reply_p50_seconds": figures["first_reply_p50_seconds"],
    }


def _day(day: date, row: Mapping[str, Any] | None) -> dict[str, Any]:
    figures = _figures(row) if row else EMPTY
    return {
        "date": day,
        "conversations": figures["conversations"],
        "sla_met_share": figures["sla_met_share"],
        "sla_counted": figures["sla_counted"],
    }


CSV_COLUMNS = ("scope", "agent", "email", *FIGURES)


def summary_csv(report: Mapping[str, Any]) -> str:
    """The report as CSV: a line for the whole scope, then one per agent."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    lines: Iterable[tuple[str, Mapping[str, Any]]] = [
        ("all", report),
        *(("agent", a) for a in report["agents"]),
    ]
    for scope, figures in lines:
        writer.writerow(
            [
                scope,
                figures.get("agent") if scope == "agent" else "",
                _safe_cell(figures.get("email", "")) if scope == "agent" else "",
                *("" if figures[f] is None else figures[f] for f in FIGURES),
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
