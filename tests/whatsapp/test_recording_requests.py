"""A burst of deliveries asks for one recording pass, and no delivery is ever left
behind by a pass that starts while its webhook is still committing."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection, transaction

from channels_whatsapp import inbox
from channels_whatsapp.models import InboundDelivery
from conversations import passes
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


def test_a_delivery_that_commits_after_its_pass_started_asks_for_another(broker):
    """A pass reads only what was committed before it began; a delivery committed later
    finds no pass waiting and asks for one of its own, so nothing is left behind."""
    channel = ChannelFactory()
    inbox.delivery_accept(channel=channel, body=said(channel, "first"))  # a pass waits
    kept, may_commit = threading.Event(), threading.Event()

    def slow_webhook() -> None:
        try:
            with transaction.atomic():
                inbox.delivery_accept(channel=channel, body=said(channel, "second"))
                kept.set()
                may_commit.wait(10)
        finally:
            connection.close()

    webhook = threading.Thread(target=slow_webhook)
    webhook.start()
    assert kept.wait(10)
    inbox.recording_started(channel_id=channel.pk)
    first_pass = inbox.deliveries_record(channel_id=channel.pk)
    enqueued = broker.llen("celery")
    may_commit.set()
    webhook.join(10)

    assert first_pass == 1
    assert broker.llen("celery") == enqueued + 1, "the late delivery asked for a pass of its own"
    inbox.recording_started(channel_id=channel.pk)
    assert inbox.deliveries_record(channel_id=channel.pk) == 1
    assert not InboundDelivery.objects.exists()


def test_a_pass_that_never_reached_the_broker_holds_back_new_ones_only_for_a_while(broker):
    channel = ChannelFactory()
    inbox.delivery_accept(channel=channel, body=BODY)
    broker.delete("celery")  # as if the broker had been down when it was sent
    inbox.delivery_accept(channel=channel, body=BODY)
    assert broker.llen("celery") == 0, "the mark still stands"

    mark = passes.mark_key(inbox.RECORDING_PASS, channel.pk)
    assert 0 < broker.ttl(mark) <= passes.MARK_TTL_SECONDS
    broker.delete(mark)  # as it expires
    inbox.delivery_accept(channel=channel, body=BODY)

    assert broker.llen("celery") == 1
