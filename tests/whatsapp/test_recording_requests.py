"""A burst of deliveries asks for one recording pass, and no delivery is ever left
behind by a pass that starts while its webhook is still committing."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from channels_whatsapp import inbox
from channels_whatsapp.models import InboundDelivery, PendingRecordingPass
from tests.factories import ChannelFactory
from tests.whatsapp import payloads as p

pytestmark = pytest.mark.django_db(transaction=True)

BODY = b'{"object": "whatsapp_business_account", "entry": []}'


def said(channel, text: str) -> bytes:
    return json.dumps(
        p.delivery(
            p.value(channel, contacts=[p.contact()], messages=[p.message("text", p.text(text))])
        )
    ).encode()


def test_a_burst_of_deliveries_enqueues_one_pass(broker):
    channel = ChannelFactory()
    for _ in range(25):
        inbox.delivery_accept(channel=channel, body=BODY)

    assert InboundDelivery.objects.count() == 25
    assert broker.llen("celery") == 1


def test_a_delivery_after_the_pass_started_enqueues_another(broker):
    channel, other = ChannelFactory(), ChannelFactory()
    inbox.delivery_accept(channel=channel, body=BODY)
    inbox.recording_started(channel_id=channel.pk)
    inbox.delivery_accept(channel=channel, body=BODY)
    inbox.delivery_accept(channel=other, body=BODY)

    assert broker.llen("celery") == 3


def test_a_pass_starts_only_after_a_webhook_that_found_its_mark_has_committed(broker):
    """The webhook found the pass still waiting, so it enqueued nothing: the pass must
    see its delivery, however late it commits."""
    channel = ChannelFactory()
    inbox.delivery_accept(channel=channel, body=said(channel, "first"))  # a pass waits
    found_mark, may_commit = threading.Event(), threading.Event()

    def slow_webhook() -> None:
        try:
            with transaction.atomic():
                inbox.delivery_accept(channel=channel, body=said(channel, "second"))
                found_mark.set()
                may_commit.wait(10)
        finally:
            connection.close()

    webhook = threading.Thread(target=slow_webhook)
    webhook.start()
    assert found_mark.wait(10)
    started_at: list[float] = []

    def start_pass() -> None:
        try:
            inbox.recording_started(channel_id=channel.pk)
            started_at.append(time.monotonic())
        finally:
            connection.close()

    starter = threading.Thread(target=start_pass)
    starter.start()
    time.sleep(0.3)
    committed_at = time.monotonic()
    may_commit.set()
    webhook.join(10)
    starter.join(10)

    assert started_at and started_at[0] >= committed_at
    assert broker.llen("celery") == 1, "the late delivery relied on the waiting pass"
    assert inbox.deliveries_record(channel_id=channel.pk) == 2


def test_a_pass_that_never_reached_the_broker_stops_holding_back_new_ones(broker):
    channel = ChannelFactory()
    inbox.delivery_accept(channel=channel, body=BODY)
    broker.delete("celery")  # as if the broker had been down when it was sent
    PendingRecordingPass.objects.update(
        requested_at=timezone.now() - inbox.MARK_EXPIRES - timedelta(seconds=1)
    )
    inbox.delivery_accept(channel=channel, body=BODY)
    assert broker.llen("celery") == 0, "the mark still stands until the sweep drops it"

    inbox.deliveries_recover()
    inbox.delivery_accept(channel=channel, body=BODY)

    assert broker.llen("celery") == 1
