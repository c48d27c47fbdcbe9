"""Replay a period's recorded chats through routing's rules with other staffings.

A discrete-event simulation: each chat of the project that opened in the period arrives
when it did, with its language, skills and priority, and holds an agent's place for the
time it was handled (first assignment to close, as recorded in the audit trail; a chat
never closed holds it for the period's median). Whenever a chat arrives or a place
frees, the queue is walked as routing walks it (``QUEUE_ORDER``: priority, then age) and
each chat goes to the least loaded eligible agent with room (``LOAD_ORDER``'s order:
open chats over ``max_open``, then who waited longest since their last chat), where
eligible is routing's own rule (``routing.router.speaks_and_knows``).

The simulated agents are the project's members who work chats, the busiest in the period
first; a staffing of more agents than that repeats their profiles in that order. Every
simulated agent is Available for the whole period. Not simulated: returning customers
held for their last agent, presence changes and shifts, transfers, offers.
"""

from __future__ import annotations

import bisect
import heapq
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Min, Q

from conversations.models import (
    QUEUE_ORDER,
    Conversation,
    EventKind,
    Membership,
    Project,
)
from reports.periods import Period
from routing.router import speaks_and_knows

# A chat nobody recorded a handle time for, in a period where nobody did either.
DEFAULT_HANDLE_SECONDS = 600.0
MAX_CHATS = 20_000


@dataclass
class Replayed:
    """A recorded chat as the simulation sees it."""

    chat: Conversation
    arrival: float  # seconds after the period's start
    handle: float
    queued_at: float = 0.0  # for ``QUEUE_ORDER``: the arrival
    wait: float | None = None

    @property
    def priority(self) -> int:
        return self.chat.priority

    @property
    def id(self) -> int:
        return self.chat.pk


@dataclass
class SimulatedAgent:
    member: Membership  # a profile: languages, skills, max_open
    index: int
    open: int = 0
    last_assigned: float | None = None

    def load_key(self) -> tuple[float, bool, float, int]:
        """``LOAD_ORDER`` in hand: open over max_open, never assigned first, then the
        longest since their last assignment, then a stable tie-break."""
        return (
            self.open / self.member.max_open,
            self.last_assigned is not None,
            self.last_assigned or 0.0,
            self.index,
        )


def order_key(order: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """A sort key that orders objects as the ORM's ``order_by(*order)`` orders rows
    (a leading ``-`` is descending; only numbers are ever descending here)."""

    def key(obj: Any) -> tuple[Any, ...]:
        return tuple(
            -getattr(obj, name[1:]) if name.startswith("-") else getattr(obj, name)
            for name in order
        )

    return key


queue_key = order_key(QUEUE_ORDER)


@dataclass
class Recording:
    chats: list[Replayed]
    profiles: Sequence[Membership]
    recorded_waits: list[float] = field(default_factory=list)
    agents_on_duty: int = 0


def recording(*, organization_id: int, project: Project, period: Period) -> Recording:
    """The project's chats that opened in ``period``, their handle times and waits as
    recorded, and the profiles of its agents, busiest first."""
    rows = list(
        Conversation.objects.filter(
            organization_id=organization_id,
            project=project,
            created_at__gte=period.start,
            created_at__lt=period.end,
        )
        .annotate(
            first_assigned_at=Min("events__created_at", filter=Q(events__kind=EventKind.ASSIGNED))
        )
        .only("id", "created_at", "closed_at", "language", "required_skills", "priority", "agent")
        .order_by("created_at", "id")[: MAX_CHATS + 1]
    )
    if len(rows) > MAX_CHATS:
        raise ValueError(f"the period has more than {MAX_CHATS} chats; replay a shorter one")
    handles = [
        (row.closed_at - row.first_assigned_at).total_seconds()
        for row in rows
        if row.closed_at and row.first_assigned_at  # type: ignore[attr-defined]
    ]
    usual = statistics.median(handles) if handles else DEFAULT_HANDLE_SECONDS
    chats = []
    for row in rows:
        first: datetime | None = row.first_assigned_at  # type: ignore[attr-defined]
        handle = (row.closed_at - first).total_seconds() if row.closed_at and first else usual
        arrival = (row.created_at - period.start).total_seconds()
        chats.append(
            Replayed(chat=row, arrival=arrival, handle=max(handle, 0.0), queued_at=arrival)
        )
    waits = [
        (row.first_assigned_at - row.created_at).total_seconds()  # type: ignore[attr-defined]
        for row in rows
        if row.first_assigned_at  # type: ignore[attr-defined]
    ]
    profiles = list(
        Membership.objects.works_chats()
        .filter(organization_id=organization_id, projects=project, max_open__gt=0)
        .annotate(
            handled=Count(
                "conversations",
                filter=Q(
                    conversations__project=project,
                    conversations__created_at__gte=period.start,
                    conversations__created_at__lt=period.end,
                ),
            )
        )
        .order_by("-handled", "pk")
    )
    on_duty = len({row.agent_id for row in rows if row.agent_id})
    return Recording(chats, profiles, waits, on_duty)


def simulate(chats: Sequence[Replayed], agents: list[SimulatedAgent]) -> list[float | None]:
    """Each chat's wait under routing's rules with ``agents``; None: no agent could ever
    take it (nobody speaks its language or has its skills)."""
    for chat in chats:
        chat.wait = None
    arrivals = sorted(chats, key=lambda c: (c.arrival, c.id))
    frees: list[tuple[float, int]] = []  # (when, agent index) a place frees
    queue: list[Replayed] = []  # kept in queue order
    places = sum(a.member.max_open for a in agents)
    next_arrival = 0
    while next_arrival < len(arrivals) or (frees and queue):
        now = min(
            arrivals[next_arrival].arrival if next_arrival < len(arrivals) else float("inf"),
            frees[0][0] if frees else float("inf"),
        )
        while frees and frees[0][0] <= now:
            _, index = heapq.heappop(frees)
            agents[index].open -= 1
            places += 1
        while next_arrival < len(arrivals) and arrivals[next_arrival].arrival <= now:
            bisect.insort(queue, arrivals[next_arrival], key=queue_key)
            next_arrival += 1
        waiting = []
        for position, chat in enumerate(queue):
            if not places:
                waiting.extend(queue[position:])
                break
            room = [
                a
                for a in agents
                if a.open < a.member.max_open and speaks_and_knows(a.member, chat.chat)
            ]
            if not room:
                waiting.append(chat)
                continue
            agent = min(room, key=SimulatedAgent.load_key)
            agent.open += 1
            places -= 1
            agent.last_assigned = now
            chat.wait = now - chat.arrival
            heapq.heappush(frees, (now + chat.handle, agent.index))
        queue = waiting
    return [chat.wait for chat in chats]


def staffed(profiles: Sequence[Membership], n: int) -> list[SimulatedAgent]:
    """``n`` simulated agents with the profiles in turn."""
    return [
        SimulatedAgent(
            member=Membership(
                languages=profiles[i % len(profiles)].languages,
                skills=profiles[i % len(profiles)].skills,
                max_open=profiles[i % len(profiles)].max_open,
            ),
            index=i,
        )
        for i in range(n)
    ]


def _outcome(waits: Sequence[float | None], target_wait_seconds: float) -> dict[str, Any]:
    served = [w for w in waits if w is not None]
    return {
        "share_within_target": (
            round(sum(1 for w in served if w <= target_wait_seconds) / len(waits), 6)
            if waits
            else None
        ),
        "mean_wait_seconds": round(statistics.fmean(served), 3) if served else None,
        "never_served": len(waits) - len(served),
    }


def replay(
    *,
    organization_id: int,
    project: Project,
    period: Period,
    staffings: Sequence[int],
    target_wait_seconds: float,
    target_share: float,
) -> dict[str, Any]:
    """For each number of agents, the share of the period's chats answered within the
    target and their mean wait; ``agents_needed`` is the fewest of them that meets
    ``target_share`` (None: none does)."""
    taken = recording(organization_id=organization_id, project=project, period=period)
    if not taken.profiles:
        raise ValueError("the project has no members who take chats to model")
    rows = []
    for n in sorted(set(staffings)):
        waits = simulate(taken.chats, staffed(taken.profiles, n))
        rows.append({"agents": n, **_outcome(waits, target_wait_seconds)})
    needed = next(
        (
            r["agents"]
            for r in rows
            if r["share_within_target"] is not None and r["share_within_target"] >= target_share
        ),
        None,
    )
    recorded = _outcome(taken.recorded_waits, target_wait_seconds)
    return {
        "mode": "replay",
        "conversations": len(taken.chats),
        "recorded": {"agents": taken.agents_on_duty, **recorded},
        "agents_needed": needed,
        "staffing": rows,
    }
