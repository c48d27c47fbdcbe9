"""How many agents a load needs, from Erlang C, for agents who work several chats at once.

The model: chats arrive at random (Poisson) at ``arrivals_per_hour``; each holds one of
an agent's ``max_open`` places for ``handle_minutes`` on average (exponentially
distributed), from assignment to close; a chat that finds every place taken waits in one
queue, first come first served, and nobody gives up. That is Erlang C (M/M/N) with
``N = agents * max_open`` servers. With ``max_open`` 1 it is the classic call-centre
Erlang C.

Its limits, as the planner page says: it takes the handle time as measured with the
agent's usual number of parallel chats (an agent with more chats open is slower on each,
which the model does not know); it pools every place of every agent, so it assumes any
agent can take any chat (no languages or skills: the replay mode keeps those) and
understates the wait when places are spread thin; no customer abandons; arrivals are
steady over the hour. Read it as a lower bound on the agents needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The biggest load (Erlangs) one forecast computes, so one request stays quick.
MAX_LOAD = 5_000
# Staffings shown below and above the one that meets the target.
ROWS_BELOW, ROWS_ABOVE = 6, 3


@dataclass(frozen=True)
class Staffing:
    agents: int
    servers: int
    wait_probability: float
    share_within_target: float
    mean_wait_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "agents": self.agents,
            "servers": self.servers,
            "wait_probability": round(self.wait_probability, 6),
            "share_within_target": round(self.share_within_target, 6),
            "mean_wait_seconds": round(self.mean_wait_seconds, 3),
        }


def erlang_c(servers: int, load: float) -> float:
    """The probability that a chat waits, ``servers`` places and ``load`` Erlangs
    (``servers > load``), through Erlang B's recursion, which never overflows."""
    if servers <= load:
        return 1.0
    blocking = 1.0
    for n in range(1, servers + 1):
        blocking = load * blocking / (n + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def staffing_for(
    *, agents: int, max_open: int, load: float, handle_seconds: float, target_wait_seconds: float
) -> Staffing:
    servers = agents * max_open
    waits = erlang_c(servers, load)
    spare = servers - load
    return Staffing(
        agents=agents,
        servers=servers,
        wait_probability=waits,
        share_within_target=1 - waits * math.exp(-spare * target_wait_seconds / handle_seconds),
        mean_wait_seconds=waits * handle_seconds / spare,
    )


def forecast(
    *,
    arrivals_per_hour: float,
    handle_minutes: float,
    max_open: int,
    target_wait_seconds: float,
    target_share: float,
) -> dict[str, Any]:
    """The fewest agents whose share of chats answered within ``target_wait_seconds`` is
    at least ``target_share``, and the staffings around it."""
    handle_seconds = handle_minutes * 60
    load = arrivals_per_hour * handle_seconds / 3600
    if load > MAX_LOAD:
        raise ValueError(f"a load above {MAX_LOAD} Erlangs is beyond this planner")
    fewest_stable = math.floor(load / max_open) + 1
    rows: list[Staffing] = []
    needed: int | None = None
    agents = fewest_stable
    while needed is None or agents <= needed + ROWS_ABOVE:
        row = staffing_for(
            agents=agents,
            max_open=max_open,
            load=load,
            handle_seconds=handle_seconds,
            target_wait_seconds=target_wait_seconds,
        )
        rows.append(row)
        if needed is None and row.share_within_target >= target_share:
            needed = agents
        agents += 1
    assert needed is not None
    shown = [r for r in rows if r.agents >= needed - ROWS_BELOW]
    return {
        "mode": "erlang-c",
        "load_erlangs": round(load, 4),
        "agents_needed": needed,
        "staffing": [r.as_dict() for r in shown],
    }
