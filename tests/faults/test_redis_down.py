"""Redis stopped during ingest: the webhook does not depend on it to keep a delivery, and
what it kept is recorded and routed once Redis is back."""

from __future__ import annotations

import json

import httpx
import pytest

from bench.deliveries import inbound_text
from tests.faults.conftest import Stack, wait_until

pytestmark = pytest.mark.worker

BEFORE = 5
DURING = 15


def customer_says(stack: Stack, n: int) -> dict:
    return inbound_text(
        phone_number_id=stack.seed["phone_number_id"],
        wa_id=f"4473{n:08d}",
        wamid=f"wamid.redis-down.{n}",
        text=f"hello from customer {n}",
    )


def test_webhooks_are_stored_while_redis_is_down_and_routed_once_it_is_back(
    fault_stack: Stack,
):
    fault_stack.seed_data(agents=10, max_open=3)
    base_url = fault_stack.web()
    fault_stack.worker()

    with httpx.Client(timeout=30) as client:
        for n in range(BEFORE):
            assert fault_stack.webhook(client, base_url, customer_says(fault_stack, n)) == 200
        fault_stack.redis.stop()
        answers = [
            fault_stack.webhook(client, base_url, customer_says(fault_stack, n))
            for n in range(BEFORE, BEFORE + DURING)
        ]
    assert answers == [200] * DURING, fault_stack.logs()
    # Each delivery answered during the outage is kept, waiting for a worker (or was
    # recorded by a pass that was already running and needs no Redis to go on).
    kept = {
        message["id"]
        for (body,) in fault_stack.sql(
            "SELECT convert_from(body, 'UTF8') FROM channels_whatsapp_inbounddelivery"
        )
        for message in json.loads(body)["entry"][0]["changes"][0]["value"]["messages"]
    }
    recorded = {
        wamid
        for (wamid,) in fault_stack.sql(
            "SELECT wamid FROM conversations_message WHERE wamid LIKE 'wamid.redis-down.%%'"
        )
    }
    assert kept | recorded >= {f"wamid.redis-down.{n}" for n in range(BEFORE, BEFORE + DURING)}

    fault_stack.redis.start()
    wait_until(
        lambda: (
            fault_stack.scalar(
                "SELECT count(*) FROM conversations_conversation WHERE status = 'assigned'"
            )
            == BEFORE + DURING
        ),
        timeout=60,
        what="every conversation recorded and routed once Redis is back",
        logs=fault_stack.logs,
    )
    assert (
        fault_stack.scalar(
            "SELECT count(DISTINCT wamid) FROM conversations_message"
            " WHERE wamid LIKE 'wamid.redis-down.%%'"
        )
        == BEFORE + DURING
    )
    assert fault_stack.scalar("SELECT count(*) FROM channels_whatsapp_inbounddelivery") == 0
    assert (
        fault_stack.scalar(
            "SELECT count(*) FROM conversations_conversationevent WHERE kind = 'assigned'"
        )
        == BEFORE + DURING
    )
