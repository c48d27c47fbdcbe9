"""Redis (the Celery broker) stopped while an agent sends a reply: the API still answers
201 with the message queued, and once Redis is back the customer gets the message, once."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from channels_whatsapp.fake_cloud import FakeCloudApi
from tests.faults.conftest import Stack, wait_until

pytestmark = pytest.mark.worker

# Long enough for the sweep to hand the message over again after its grace, had the first
# hand-over reached a worker after all (it must not send twice).
QUIET_SECONDS = 15


@pytest.fixture
def cloud() -> Iterator[FakeCloudApi]:
    fake = FakeCloudApi(statuses=()).start()
    try:
        yield fake
    finally:
        fake.stop()


def api_token(stack: Stack, member_id: int) -> str:
    key = secrets.token_hex(20)
    return str(
        stack.scalar(
            "INSERT INTO authtoken_token (key, created, user_id)"
            " SELECT %s, now(), user_id FROM conversations_membership WHERE id = %s"
            " RETURNING key",
            (key, member_id),
        )
    )


def sent_texts(cloud: FakeCloudApi) -> list[str]:
    return [request["body"]["text"]["body"] for request in cloud.sent]


def test_a_reply_sent_while_redis_is_down_is_queued_and_reaches_the_customer_once(
    fault_stack: Stack, cloud: FakeCloudApi
):
    fault_stack.env["WHATSAPP_GRAPH_URL"] = cloud.graph_url
    # One assigned conversation whose customer wrote just now (the service window is open).
    fault_stack.seed_data(agents=1, max_open=3, outbound=1)
    (agent,) = fault_stack.seed["members"]
    conversation = fault_stack.scalar(
        "SELECT id FROM conversations_conversation WHERE status = 'assigned'"
    )
    token = api_token(fault_stack, agent)
    base_url = fault_stack.web()
    fault_stack.worker()
    url = f"{base_url}/api/v1/conversations/{conversation}/messages/"
    headers = {"Authorization": f"Token {token}"}

    with httpx.Client(timeout=30, headers=headers) as client:
        before = client.post(url, json={"text": "Before the outage"})
        assert before.status_code == 201, fault_stack.logs()
        wait_until(
            lambda: sent_texts(cloud) == ["Before the outage"],
            timeout=30,
            what="a reply sent while Redis is up",
            logs=fault_stack.logs,
        )

        fault_stack.redis.stop()
        during = client.post(url, json={"text": "During the outage"})
    assert during.status_code == 201, fault_stack.logs()
    answer = during.json()
    assert answer == {"id": answer["id"], "status": "queued"}
    assert fault_stack.sql(
        "SELECT status, wamid FROM conversations_message WHERE id = %s", (answer["id"],)
    ) == [("queued", None)]

    fault_stack.redis.start()
    wait_until(
        lambda: (
            fault_stack.scalar(
                "SELECT status FROM conversations_message WHERE id = %s", (answer["id"],)
            )
            == "sent"
        ),
        timeout=90,
        what="the reply kept during the outage sent once Redis is back",
        logs=fault_stack.logs,
    )
    time.sleep(QUIET_SECONDS)
    assert sent_texts(cloud) == ["Before the outage", "During the outage"]
    (wamid,) = fault_stack.sql(
        "SELECT wamid FROM conversations_message WHERE id = %s", (answer["id"],)
    )[0]
    assert wamid == cloud.sent[1]["wamid"]
