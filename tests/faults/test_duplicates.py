"""Meta delivers at least once and in no promised order: every inbound delivery sent
twice and the lot shuffled, several at a time."""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench.deliveries import inbound_text, status_update
from tests.faults.conftest import Stack, wait_until

CUSTOMERS = 6
MESSAGES_EACH = 4
OUTBOUND = 8
RANK = {"sent": 1, "delivered": 2, "read": 3}


def test_twice_delivered_shuffled_webhooks_store_each_message_once_and_never_step_back(
    fault_stack: Stack,
):
    seed = fault_stack.seed_data(agents=3, max_open=5, outbound=OUTBOUND)
    base_url = fault_stack.web()
    fault_stack.worker()
    phone = seed["phone_number_id"]
    now = int(time.time())

    deliveries: list[dict[str, Any]] = []
    for customer in range(CUSTOMERS):
        for n in range(MESSAGES_EACH):
            deliveries.append(
                inbound_text(
                    phone_number_id=phone,
                    wa_id=f"4475{customer:08d}",
                    wamid=f"wamid.dup.{customer}.{n}",
                    text=f"message {n}",
                    timestamp=now + n,
                )
            )
    for sent in seed["outbound"]:
        for offset, state in enumerate(RANK):
            deliveries.append(
                status_update(
                    phone_number_id=phone,
                    wamid=sent["wamid"],
                    status=state,
                    recipient=sent["to"],
                    timestamp=now + offset,
                )
            )
    doubled = deliveries * 2
    random.Random(20260).shuffle(doubled)

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda payload: fault_stack.webhook(client, base_url, payload), doubled)
        )
    assert answers == [200] * len(doubled), fault_stack.logs()
    # Answered means kept; the worker records what was kept right after.
    wait_until(
        lambda: fault_stack.scalar("SELECT count(*) FROM channels_whatsapp_inbounddelivery") == 0,
        timeout=30,
        what="every kept delivery recorded",
        logs=fault_stack.logs,
    )

    stored = fault_stack.sql(
        "SELECT wamid, count(*) FROM conversations_message"
        " WHERE wamid LIKE 'wamid.dup.%%' GROUP BY wamid"
    )
    assert len(stored) == CUSTOMERS * MESSAGES_EACH
    assert {count for _, count in stored} == {1}
    assert (
        fault_stack.scalar(
            "SELECT count(*) FROM conversations_conversation c JOIN conversations_contact k"
            " ON k.id = c.contact_id WHERE k.wa_id LIKE '4475%%'"
        )
        == CUSTOMERS
    )

    finals = dict(
        fault_stack.sql(
            "SELECT wamid, status FROM conversations_message WHERE wamid LIKE 'wamid.out.%%'"
        )
    )
    assert finals == {sent["wamid"]: "read" for sent in seed["outbound"]}

    # What the agent's dock was told, in the order it was told: forwards only.
    told: dict[str, list[str]] = {}
    for (data,) in fault_stack.sql(
        "SELECT data FROM conversations_dockevent WHERE type = 'message.status' ORDER BY seq"
    ):
        told.setdefault(data["wamid"], []).append(data["status"])
    assert set(told) == set(finals)
    for wamid, states in told.items():
        ranks = [RANK[s] for s in states]
        assert ranks == sorted(set(ranks)), (wamid, states)
