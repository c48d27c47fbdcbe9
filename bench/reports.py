"""The summary report at scale: a month of 100,000 conversations and 1,000,000 messages.

The seed is written by PostgreSQL itself (``generate_series``): each conversation of 50
agents opens at its own moment of a 30-day month, with ten messages (the customer's and
the agents' in turn, the first reply after a delay that varies by conversation), the
first-reply facts the core records of such a thread (``conversations.sla``: clock start,
deadline, first reply, a late one's breach), an assignment and a close in its audit
trail, and a transfer for one in ten. The figure is the wall time of the whole report
for the month (``reports.summary.report_summary`` and its serializer: every figure, the
agents' rows and the series), measured repeatedly; a day's report is measured beside it.

The baseline is the least the same report could do: one statement that reads the same
month's messages through the same conversations and counts them. The goal is absolute
(the page must answer in time) with the ratio beside it to read it by.

Run by ``python -m bench reports`` (on the run's scratch database), or alone with
``python -m bench.reports`` (it makes and drops its own scratch database).
``BENCH_REPORT_CONVERSATIONS`` sets the size (ten messages each).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import Check, Figure, latency_figures, ms, percentile, print_section

CONVERSATIONS = int(os.environ.get("BENCH_REPORT_CONVERSATIONS", "100000"))
MESSAGES_PER_CONVERSATION = 10
AGENTS = 50
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "20"))
P95_GOAL = 0.5  # seconds
MONTH = datetime(2026, 3, 1, tzinfo=UTC)
SLA_SECONDS = 120
DAYS = 30

SEED_CONTACTS = """
INSERT INTO conversations_contact (organization_id, wa_id, name, language, attributes, created_at)
SELECT %(organization)s, 'r' || g, 'Customer ' || g, '', '{}', %(start)s
FROM generate_series(1, %(count)s) AS g
"""

SEED_CONVERSATIONS = """
INSERT INTO conversations_conversation (
    organization_id, project_id, channel_id, contact_id, status, agent_id, language,
    language_source, required_skills, priority, created_at, queued_at, assigned_at, closed_at,
    outcome, last_inbound_at, last_message_at, unread_count,
    first_inbound_at, sla_due_at, first_reply_at, sla_breached_at)
SELECT %(organization)s, %(project)s, %(channel)s, ct.id, 'closed',
       (%(agents)s::bigint[])[1 + ct.id %% array_length(%(agents)s::bigint[], 1)], 'en',
       'default', '[]', 0, opened, opened, opened + interval '20 seconds', opened + interval '25 minutes',
       'done', opened, opened + interval '25 minutes', 0,
       opened, opened + %(sla)s * interval '1 second', replied,
       CASE WHEN replied > opened + %(sla)s * interval '1 second' THEN replied END
FROM (SELECT id, opened, opened + (40 + id %% 300) * interval '1 second' AS replied
      FROM (SELECT id, %(start)s::timestamptz
                   + (row_number() OVER (ORDER BY id)) * (%(days)s * interval '1 day') / %(count)s
                   AS opened
            FROM conversations_contact WHERE organization_id = %(organization)s) AS o) AS ct
"""

SEED_MESSAGES = """
INSERT INTO conversations_message (
    conversation_id, channel_id, direction, type, text, media, status, context_wamid, error,
    sent_at, created_at, send_attempts, reaction, file)
SELECT c.id, c.channel_id, CASE WHEN k %% 2 = 0 THEN 'in' ELSE 'out' END, 'text', 'Hello',
       '{}', CASE WHEN k %% 2 = 0 THEN 'received' ELSE 'read' END, '', '{}',
       c.created_at + (k * 40 + (k %% 2)::int * (c.contact_id %% 300)) * interval '1 second',
       c.created_at + (k * 40 + (k %% 2)::int * (c.contact_id %% 300)) * interval '1 second',
       0, '', ''
FROM conversations_conversation c, generate_series(0, %(per)s - 1) AS k
WHERE c.organization_id = %(organization)s
"""

SEED_EVENTS = """
INSERT INTO conversations_conversationevent (
    conversation_id, kind, rule, to_agent_id, note, data, created_at)
SELECT c.id, e.kind, '', c.agent_id, '', '{}', c.created_at + e.after
FROM conversations_conversation c
CROSS JOIN (VALUES ('assigned', interval '20 seconds'), ('closed', interval '25 minutes'),
                   ('transferred', interval '10 minutes')) AS e(kind, after)
WHERE c.organization_id = %(organization)s AND (e.kind <> 'transferred' OR c.id %% 10 = 0)
"""

# The least the report could do: read the month's messages through its conversations once.
BASELINE = """
SELECT count(*) FROM conversations_message m
JOIN conversations_conversation c ON c.id = m.conversation_id
WHERE c.organization_id = %s AND c.created_at >= %s AND c.created_at < %s
"""


def _seed() -> dict[str, Any]:
    from django.db import connection

    from bench.common import seed_organization
    from conversations.models import Membership, Role, User

    made = seed_organization(agents=AGENTS, max_open=5, name="Reports")
    org, project = made["organization"], made["project"]
    project.sla_first_reply_seconds = SLA_SECONDS
    project.save(update_fields=["sla_first_reply_seconds"])
    supervisor = Membership.objects.create(
        organization=org,
        user=User.objects.create(email=f"boss.{org.pk}@bench.test", password="!"),
        role=Role.SUPERVISOR,
        max_open=0,
    )
    params = {
        "organization": org.pk,
        "project": project.pk,
        "channel": made["channel"].pk,
        "agents": [m.pk for m in made["members"]],
        "start": MONTH,
        "days": DAYS,
        "count": CONVERSATIONS,
        "per": MESSAGES_PER_CONVERSATION,
        "sla": SLA_SECONDS,
    }
    with connection.cursor() as cursor:
        for statement in (SEED_CONTACTS, SEED_CONVERSATIONS, SEED_MESSAGES, SEED_EVENTS):
            cursor.execute(statement, params)
        # A live database has been through autovacuum: statistics and a visibility map.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            "SELECT count(*) FROM conversations_message m JOIN conversations_conversation c"
            " ON c.id = m.conversation_id WHERE c.organization_id = %s",
            [org.pk],
        )
        (messages,) = cursor.fetchone() or (0,)
    return {"supervisor": supervisor, "messages": messages}


def measure() -> tuple[list[Figure], list[Check]]:
    from django.db import connection

    from api.report_views import ReportSerializer
    from reports.periods import Period
    from reports.summary import report_summary

    started = time.monotonic()
    seeded = _seed()
    seeding = time.monotonic() - started
    supervisor = seeded["supervisor"]
    month = Period(MONTH, MONTH + timedelta(days=DAYS))
    day = Period(MONTH + timedelta(days=9), MONTH + timedelta(days=10))

    def report(period: Period) -> float:
        began = time.perf_counter()
        answer = ReportSerializer(
            report_summary(member=supervisor, period=period, project_id=None, agent_id=None)
        ).data
        elapsed = time.perf_counter() - began
        assert answer["conversations"] > 0
        return elapsed

    def baseline() -> float:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(BASELINE, [supervisor.organization_id, month.start, month.end])
            cursor.fetchone()
        return time.perf_counter() - began

    report(month)  # warm the caches once, as a page in use has them
    months, baselines, days = [], [], []
    for _ in range(RUNS):
        months.append(report(month))
        baselines.append(baseline())
        days.append(report(day))
    p95 = percentile(months, 95)
    figures = [
        Figure(
            "shape",
            f"{CONVERSATIONS:,} conversations, {seeded['messages']:,} messages, {AGENTS} agents,"
            f" {DAYS} days; {RUNS} runs",
        ),
        Figure("seeding", f"{seeding:.1f} s"),
        *latency_figures("month's report", months),
        Figure("month's report p95", ms(p95)),
        *latency_figures("baseline: count the month's messages", baselines),
        *latency_figures("a day's report", days),
    ]
    base = percentile(baselines, 95)
    check = Check(
        f"reports: summary of {CONVERSATIONS:,} chats, {seeded['messages']:,} messages, p95",
        product=ms(p95),
        goal=f"< {ms(P95_GOAL)}",
        held=p95 < P95_GOAL,
        baseline=f"{ms(base)} (count of the month's messages p95)",
        ratio=f"{p95 / base:.2f}x" if base > 0 else "",
    )
    return figures, [check]


def main() -> list[Check]:
    figures, checks = measure()
    print_section("summary report at scale", figures)
    return checks


if __name__ == "__main__":
    from bench.common import run_alone

    run_alone(main)
