"""One routing decision at scale: 1,000 agents already holding 10,000 open chats.

Each new chat is routed with ``router.route_one``, the router's unit of work (one
transaction: lock the chat, choose among the eligible agents by load, lock the chosen
one and read their open chats again, write the assignment and its audit entry, record
the realtime events for the agent and the supervisors); the figure is that call's wall
time. Agents carry a mix of skills and a quarter of the new chats need one, so the JSON
filters work too.

Run by ``python -m bench decision`` (on the run's scratch database), or alone with
``python -m bench.routing_decision`` (it makes and drops its own scratch database).
"""

from __future__ import annotations

import os
import time
from typing import Any

AGENTS = 1000
MAX_OPEN = 12
OPEN_CHATS = 10_000
DECISIONS = 500
SKILLS = ["billing", "fibre", "mobile", "retention"]


def _seed() -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    from bench.common import seed_organization
    from conversations.models import (
        Contact,
        Conversation,
        ConversationStatus,
        Membership,
        Role,
        User,
    )
    from presence.models import AgentPresence

    made = seed_organization(agents=AGENTS, max_open=MAX_OPEN, name="Decision")
    org, project, channel = made["organization"], made["project"], made["channel"]
    for i, skill in enumerate(SKILLS):
        Membership.objects.filter(pk__in=[m.pk for m in made["members"][i :: len(SKILLS)]]).update(
            skills=[skill, SKILLS[(i + 1) % len(SKILLS)]]
        )
    boss = User.objects.create(email=f"boss.{org.pk}@bench.test", password="!")
    supervisor = Membership.objects.create(
        organization=org, user=boss, role=Role.SUPERVISOR, max_open=0
    )
    AgentPresence.objects.create(membership=supervisor)

    def contacts(n: int, tag: str) -> list[Contact]:
        return Contact.objects.bulk_create(
            Contact(organization=org, wa_id=f"{tag}{i:09d}", name=f"Customer {tag}{i}")
            for i in range(n)
        )

    members = made["members"]
    Conversation.objects.bulk_create(
        (
            Conversation(
                organization=org,
                project=project,
                channel=channel,
                contact=contact,
                status=ConversationStatus.ASSIGNED,
                agent=members[i % len(members)],
                language="en",
            )
            for i, contact in enumerate(contacts(OPEN_CHATS, "44"))
        ),
        batch_size=2000,
    )
    # Written in bulk, past the services: their agents' open chats are set here.
    Membership.objects.filter(organization=org).update(
        open_conversations=Coalesce(
            Subquery(
                Conversation.objects.filter(
                    agent_id=OuterRef("pk"), status=ConversationStatus.ASSIGNED
                )
                .order_by()
                .values("agent_id")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            0,
        )
    )
    fresh = contacts(DECISIONS, "33")
    # A live database has been through autovacuum: planner statistics and a visibility
    # map, which fresh bulk inserts have neither of.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"org": org, "project": project, "channel": channel, "contacts": fresh}


def measure() -> list[Any]:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bench.common import Figure, latency_figures
    from bench.context import MachineCPU
    from conversations.models import Conversation, ConversationStatus
    from routing import router

    seeded = _seed()
    seconds: list[float] = []
    queries: list[int] = []
    outcomes: dict[str, int] = {}
    machine, began = MachineCPU.now(), time.monotonic()
    for i, contact in enumerate(seeded["contacts"]):
        chat = Conversation.objects.create(
            organization=seeded["org"],
            project=seeded["project"],
            channel=seeded["channel"],
            contact=contact,
            language="en",
            required_skills=[SKILLS[i % len(SKILLS)]] if i % 4 == 0 else [],
            queued_at=timezone.now(),
        )
        connection.queries_log.clear()  # the log keeps only the last 9,000 queries
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            decision = router.route_one(conversation_id=chat.pk, held=set())
            seconds.append(time.perf_counter() - started)
        queries.append(len(captured))
        outcome = decision[0].value if decision else "skipped"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    machine, wall = MachineCPU.now().since(machine), time.monotonic() - began
    over = (
        Conversation.objects.filter(organization=seeded["org"], status=ConversationStatus.ASSIGNED)
        .values("agent_id", "agent__max_open")
        .annotate(n=Count("pk"))
        .filter(n__gt=MAX_OPEN)
        .count()
    )
    return [
        Figure("shape", f"{AGENTS} agents, {OPEN_CHATS} open chats, {DECISIONS} decisions"),
        *latency_figures("route_one", seconds),
        Figure(
            "queries per decision",
            f"{min(queries)}-{max(queries)}, mean {sum(queries) / len(queries):.1f}",
            "counted around the call, so the timing includes the counting",
        ),
        Figure("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))),
        Figure("agents over max_open", str(over)),
        Figure(
            "the machine meanwhile",
            machine.describe(wall),
            "the load of this process and its PostgreSQL; anything else lengthens every figure",
        ),
    ]


def main() -> None:
    from bench.common import print_section

    print_section("routing decision at scale", measure())


def standalone() -> None:
    """Alone: a scratch database of its own on ``DATABASE_URL``'s server."""
    from bench.common import ScratchDatabase, setup_django

    scratch = ScratchDatabase(os.environ.get("DATABASE_URL", ""))
    setup_django(database_url=scratch.create(), redis_url=os.environ.get("REDIS_URL", ""))
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        main()
    finally:
        from django.db import connections

        connections.close_all()
        scratch.drop()


if __name__ == "__main__":
    standalone()
