"""What the worker spends on the ingest benchmark's deliveries, counted in one process.

The ingest benchmark's rate is the two cores divided by what a message costs all the
processes together, and there the worker's share moves with how its passes happen to
fall against the burst. This counts that share alone: the same deliveries (3,000 from
1,000 customers, to 100 agents with room for 500) are stored as the webhook stores them,
200 at a time, and each time recorded (``inbox.deliveries_record``) and routed
(``router.route_queue``) in this process, as the worker's tasks do. The figures are CPU
seconds of this process and of its PostgreSQL backend, per message and per decision,
with the statements sent. The baseline, in the same run, is what one single-row INSERT
costs the same two on the same connection.

Run by ``python -m bench worker`` (after the Celery worker has stopped: it would record
and route these deliveries too).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

DELIVERIES = 3000
CUSTOMERS = 1000
BATCH = 200
BASELINE_INSERTS = 3000


@dataclass
class Cost:
    """CPU seconds of this process and of its PostgreSQL backend, and statements sent."""

    python: float = 0.0
    postgres: float = 0.0
    statements: int = 0

    def count(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        return execute(sql, params, many, context)

    def measure(self, work: Any) -> None:
        from django.db import connection

        python, postgres = time.process_time(), _backend_cpu()
        with connection.execute_wrapper(self.count):
            work()
        self.python += time.process_time() - python
        self.postgres += _backend_cpu() - postgres

    def per(self, n: int) -> str:
        return (
            f"{(self.python + self.postgres) / n * 1000:.2f} ms"
            f" (Python {self.python / n * 1000:.2f} + PostgreSQL {self.postgres / n * 1000:.2f});"
            f" {self.statements / n:.2f} statements"
        )


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (it runs on this machine)."""
    from django.db import connection

    from bench.stack import cpu_of

    connection.ensure_connection()
    return cpu_of(connection.connection.info.backend_pid)  # type: ignore[union-attr]


def _baseline() -> Cost:
    from django.db import connection

    cost = Cost()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_cost (id bigserial PRIMARY KEY, body jsonb)")

    def insert_all() -> None:
        with connection.cursor() as cursor:
            for i in range(BASELINE_INSERTS):
                cursor.execute("INSERT INTO bench_cost (body) VALUES (%s)", [f'{{"n": {i}}}'])

    cost.measure(insert_all)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_cost")
    return cost


def measure() -> list[Any]:
    from django.db.models import Count
    from django.utils import timezone

    from bench.common import Figure, analyze, seed_organization
    from bench.deliveries import inbound_text
    from channels_whatsapp import inbox
    from channels_whatsapp.models import InboundDelivery
    from conversations.models import Conversation, ConversationStatus
    from routing import router

    made = seed_organization(agents=100, max_open=5, name="Worker cost")
    analyze()
    channel, organization_id = made["channel"], made["organization"].pk
    recording, routing = Cost(), Cost()
    for start in range(0, DELIVERIES, BATCH):
        InboundDelivery.objects.bulk_create(
            InboundDelivery(
                channel=channel,
                body=json.dumps(
                    inbound_text(
                        phone_number_id=channel.phone_number_id,
                        wa_id=f"4470{i % CUSTOMERS:06d}",
                        wamid=f"wamid.cost.{i}",
                        text=f"message {i} from a customer in a hurry",
                    )
                ).encode(),
                received_at=timezone.now(),
            )
            for i in range(start, start + BATCH)
        )
        recording.measure(lambda: inbox.deliveries_record(channel_id=channel.pk))
        routing.measure(lambda: router.route_queue(organization_id=organization_id))
    chats = Conversation.objects.filter(organization_id=organization_id)
    assigned = chats.filter(status=ConversationStatus.ASSIGNED).count()
    recorded = chats.aggregate(n=Count("messages"))["n"]
    baseline = _baseline()
    per_message = (recording.python + recording.postgres) / DELIVERIES
    per_insert = (baseline.python + baseline.postgres) / BASELINE_INSERTS
    return [
        Figure("shape", f"{DELIVERIES} deliveries from {CUSTOMERS} customers, {BATCH} a pass"),
        Figure("recorded", f"{recorded}/{DELIVERIES} messages, {assigned} chats assigned"),
        Figure(
            "recording, per message",
            recording.per(DELIVERIES),
            f"{per_message / per_insert:.1f}x the baseline INSERT",
        ),
        Figure("routing, per decision", routing.per(max(assigned, 1))),
        Figure(
            "routing, per message",
            routing.per(DELIVERIES),
            "each message's share of the decisions and of the passes that found no room",
        ),
        Figure("baseline: one single-row INSERT, autocommit", baseline.per(BASELINE_INSERTS)),
    ]


def main() -> None:
    from bench.common import print_section

    print_section("the worker's cost per message", measure())
