"""PostgreSQL unreachable: the webhook says so with a 5xx, so that Meta retries, and
leaves nothing half-written behind."""

from __future__ import annotations

import time

import httpx

from bench.deliveries import inbound_text
from tests.faults.conftest import Stack, wait_until

LATE_CUSTOMER = "447400000099"


def test_a_webhook_without_its_database_answers_5xx_and_the_retry_stores_it_once(
    fault_stack: Stack,
):
    fault_stack.seed_data(agents=3, max_open=3)
    base_url = fault_stack.web()
    fault_stack.worker()
    first = inbound_text(
        phone_number_id=fault_stack.seed["phone_number_id"],
        wa_id="447400000001",
        wamid="wamid.pg-down.1",
        text="before the outage",
    )
    late = inbound_text(
        phone_number_id=fault_stack.seed["phone_number_id"],
        wa_id=LATE_CUSTOMER,
        wamid="wamid.pg-down.2",
        text="during the outage",
    )

    with httpx.Client(timeout=60) as client:
        assert fault_stack.webhook(client, base_url, first) == 200
        fault_stack.pg.stop()
        try:
            during = [fault_stack.webhook(client, base_url, late) for _ in range(3)]
        finally:
            fault_stack.pg.start()
        assert all(500 <= status < 600 for status in during), (during, fault_stack.logs())

        # Nothing of the failed delivery: not kept, no contact, no conversation, no message.
        assert fault_stack.sql(
            "SELECT count(*) FROM channels_whatsapp_inbounddelivery"
            " WHERE convert_from(body, 'UTF8') LIKE '%%wamid.pg-down.2%%'"
        ) == [(0,)]
        assert fault_stack.sql(
            "SELECT count(*) FROM conversations_contact WHERE wa_id = %s", (LATE_CUSTOMER,)
        ) == [(0,)]
        assert fault_stack.sql(
            "SELECT count(*) FROM conversations_message WHERE wamid = 'wamid.pg-down.2'"
        ) == [(0,)]

        # Meta retries with backoff until it gets a 200, and may deliver the same thing
        # again after that. A retry soon after the restart may still meet a pooled
        # connection the outage broke (a 500 again); a later one must be stored.
        for _ in range(2):
            retries = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                retries.append(fault_stack.webhook(client, base_url, late))
                if retries[-1] == 200:
                    break
                time.sleep(0.5)
            assert retries[-1] == 200, (retries, fault_stack.logs())

    def recorded() -> list[tuple[str, int]]:
        return fault_stack.sql(
            "SELECT m.wamid, count(*) FROM conversations_message m"
            " WHERE m.wamid LIKE 'wamid.pg-down.%%' GROUP BY m.wamid ORDER BY m.wamid"
        )

    wait_until(
        lambda: len(recorded()) == 2,
        timeout=30,
        what="both messages recorded by the worker",
        logs=fault_stack.logs,
    )
    assert recorded() == [("wamid.pg-down.1", 1), ("wamid.pg-down.2", 1)]
    assert fault_stack.sql(
        "SELECT count(*) FROM conversations_conversation c"
        " JOIN conversations_contact k ON k.id = c.contact_id WHERE k.wa_id = %s",
        (LATE_CUSTOMER,),
    ) == [(1,)]
