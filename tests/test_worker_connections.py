"""A Celery worker keeps its pooled database connection from one task to the next, as a
web process does between requests: opening a PostgreSQL connection per task cost more
than a one-message recording pass itself."""

from __future__ import annotations

import json

import pytest
from django.db import connection

from channels_whatsapp.inbox import delivery_accept
from conversations.models import Message
from tests.celery_worker import celery_worker, database_url, wait_until  # noqa: F401
from tests.factories import ChannelFactory
from tests.whatsapp import payloads as p

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

APPLICATION = "worker-connection-probe"


@pytest.fixture
def celery_worker_env(transactional_db):
    return {"DATABASE_URL": f"{database_url()}?application_name={APPLICATION}"}


def worker_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [APPLICATION]
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_a_worker_records_one_delivery_after_another_on_the_same_connection(
    celery_worker,  # noqa: F811
):
    channel = ChannelFactory()
    seen: list[set[int]] = []
    for i in range(5):
        body = json.dumps(
            p.delivery(
                p.value(
                    channel,
                    contacts=[p.contact()],
                    messages=[p.message("text", p.text(f"message {i}"), id=f"wamid.reuse.{i}")],
                )
            )
        ).encode()
        delivery_accept(channel=channel, body=body)

        wamid = f"wamid.reuse.{i}"

        def recorded(wamid: str = wamid) -> bool:
            """the delivery is recorded by the worker"""
            return Message.objects.filter(wamid=wamid).exists()

        wait_until(recorded, timeout=60, interval=0.05)
        seen.append(worker_backends())

    first = seen[0]
    assert first, "the worker holds no connection after its task"
    assert all(first & later for later in seen[1:]), seen
