"""A Celery worker killed with SIGKILL in the middle of routing a burst of chats."""

from __future__ import annotations

import pytest

from tests.faults.conftest import Stack, wait_until

pytestmark = pytest.mark.worker

AGENTS = 20
MAX_OPEN = 5
CAPACITY = AGENTS * MAX_OPEN
QUEUED = 300


def assigned(stack: Stack) -> int:
    return stack.scalar("SELECT count(*) FROM conversations_conversation WHERE status = 'assigned'")


def test_a_worker_killed_mid_routing_leaves_every_chat_routed_once(fault_stack: Stack):
    fault_stack.seed_data(agents=AGENTS, max_open=MAX_OPEN, queued=QUEUED)
    worker = fault_stack.worker("doomed", beat=False)
    fault_stack.enqueue("routing.tasks.route_queue", fault_stack.seed["organization"])

    wait_until(
        lambda: assigned(fault_stack) >= 5,
        timeout=30,
        what="routing started",
        logs=fault_stack.logs,
    )
    worker.kill()
    at_kill = assigned(fault_stack)
    # The kill must land while chats with room are still waiting, or this proves nothing.
    assert at_kill < CAPACITY

    # A new worker: the killed task is not acknowledged (late acks) and the beat's sweep
    # routes whatever is still queued.
    fault_stack.worker("successor", beat=True)
    wait_until(
        lambda: assigned(fault_stack) == CAPACITY,
        timeout=60,
        what=f"all {CAPACITY} places filled after the kill (had {at_kill})",
        logs=fault_stack.logs,
    )

    over_capacity = fault_stack.sql(
        "SELECT m.id, count(c.id), m.max_open FROM conversations_membership m"
        " JOIN conversations_conversation c ON c.agent_id = m.id AND c.status = 'assigned'"
        " GROUP BY m.id HAVING count(c.id) > m.max_open"
    )
    assert over_capacity == []
    assigned_twice = fault_stack.sql(
        "SELECT conversation_id, count(*) FROM conversations_conversationevent"
        " WHERE kind = 'assigned' GROUP BY conversation_id HAVING count(*) > 1"
    )
    assert assigned_twice == []
    assert (
        fault_stack.scalar(
            "SELECT count(DISTINCT conversation_id) FROM conversations_conversationevent"
            " WHERE kind = 'assigned'"
        )
        == CAPACITY
    )
    assert (
        fault_stack.scalar(
            "SELECT count(*) FROM conversations_conversation WHERE status = 'queued'"
        )
        == QUEUED - CAPACITY
    )
