"""One routing decision at scale: 1,000 agents already holding 10,000 open chats.

Each new chat is routed with ``router.route_one``, the router's unit of work (one
transaction: lock the chat, choose among the eligible agents by load, lock the chosen
one and read their open chats again, write the assignment and its audit entry, record
the realtime events for the agent and the supervisors); the figure is that call's wall
time. Agents carry a mix of skills and a quarter of the new chats need one, so the JSON
filters work too.

The baseline is the least an assignment could be: a conditional UPDATE that claims one
queued chat of the same table for a fixed member, committed. One claim follows each
decision, so both see the same moments of the machine and the same table, and the
ratio of their p99s is the router's own cost of choosing well.

Run by ``python -m bench decision`` (on the run's scratch database), or alone with
``python -m bench.routing_decision`` (it makes and drops its own scratch database).
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import (
    Check,
    Figure,
    latency_figures,
    ms,
    percentile,
    print_section,
    ratio_check,
)
from bench.context import MachineCPU

AGENTS = 1000
MAX_OPEN = 12
OPEN_CHATS = 10_000
DECISIONS = 500
SKILLS = ["billing", "fibre", "mobile", "retention"]
RATIO_GOAL = 10.0  # a decision's p99, at most this many claims' p99


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
    # The claims' member: in no project and offline, so no decision ever chooses them.
    claimant = Membership.objects.create(
        organization=org,
        user=User.objects.create(email=f"claims.{org.pk}@bench.test", password="!"),
        role=Role.AGENT,
        max_open=DECISIONS,
    )
    AgentPresence.objects.create(membership=claimant)
    # A live database has been through autovacuum: planner statistics and a visibility
    # map, which fresh bulk inserts have neither of.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {
        "org": org,
        "project": project,
        "channel": channel,
        "contacts": fresh,
        "claim_contacts": contacts(DECISIONS, "34"),
        "claimant": claimant,
    }


class _Statements:
    """Counts the statements sent while it wraps the connection."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def measure() -> tuple[list[Figure], list[Check]]:
    from django.db import connection
    from django.utils import timezone

    from bench.routing import over_capacity
    from conversations.models import Conversation, ConversationStatus
    from routing import router

    seeded = _seed()

    def queued(contact: Any, skills: list[str]) -> Conversation:
        return Conversation.objects.create(
            organization=seeded["org"],
            project=seeded["project"],
            channel=seeded["channel"],
            contact=contact,
            language="en",
            required_skills=skills,
            queued_at=timezone.now(),
        )

    decisions: list[float] = []
    claims: list[float] = []
    statements: list[int] = []
    outcomes: dict[str, int] = {}
    machine, began = MachineCPU.now(), time.monotonic()
    for i, (contact, other) in enumerate(
        zip(seeded["contacts"], seeded["claim_contacts"], strict=True)
    ):
        chat = queued(contact, [SKILLS[i % len(SKILLS)]] if i % 4 == 0 else [])
        counted = _Statements()
        with connection.execute_wrapper(counted):
            started = time.perf_counter()
            decision = router.route_one(conversation_id=chat.pk, held=set())
            decisions.append(time.perf_counter() - started)
        statements.append(counted.count)
        outcome = decision[0].value if decision else "skipped"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

        chat = queued(other, [])
        started = time.perf_counter()
        claimed = Conversation.objects.filter(pk=chat.pk, status=ConversationStatus.QUEUED).update(
            status=ConversationStatus.ASSIGNED,
            agent=seeded["claimant"],
            assigned_at=timezone.now(),
        )
        claims.append(time.perf_counter() - started)
        if claimed != 1:
            raise RuntimeError(f"the claim of chat {chat.pk} updated {claimed} rows")
    machine, wall = MachineCPU.now().since(machine), time.monotonic() - began
    over, twice = over_capacity(seeded["org"].pk)
    figures = [
        Figure("shape", f"{AGENTS} agents, {OPEN_CHATS:,} open chats, {DECISIONS} decisions"),
        *latency_figures("route_one", decisions),
        *latency_figures("baseline: conditional UPDATE claim, autocommit", claims),
        Figure(
            "statements per decision",
            f"{min(statements)} to {max(statements)}, mean {sum(statements) / len(statements):.1f}",
        ),
        Figure("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))),
        Figure("over capacity", f"{over} agents over max_open, {twice} chats assigned twice"),
        Figure(
            "the machine meanwhile",
            machine.describe(wall),
            "this process and its PostgreSQL, and whatever else runs on the machine",
        ),
    ]
    check = ratio_check(
        f"routing: decision p99 at {AGENTS:,} agents, {OPEN_CHATS:,} open chats",
        product=percentile(decisions, 99),
        baseline=percentile(claims, 99),
        show=ms,
        baseline_name="conditional-UPDATE claim p99",
        at_most=RATIO_GOAL,
    )
    return figures, [check]


def main() -> list[Check]:
    figures, checks = measure()
    print_section("routing decision at scale", figures)
    return checks


if __name__ == "__main__":
    from bench.common import run_alone

    run_alone(main)
