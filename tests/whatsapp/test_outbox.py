"""The outbox of replies: a reply is kept with its send intent whatever the broker does,
the sweep hands over what no worker took, and however many tasks ask, one sends."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels_whatsapp import transport
from conversations.messaging import (
    CLAIM_LEASE,
    HANDOVER_GRACE,
    SendDeferred,
    message_claim,
    message_send_text,
    message_transmit,
    messages_hand_over_overdue,
)
from conversations.models import Message, MessageStatus
from conversations.tasks import send_message
from tests.dock.conftest import command, open_dock
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory


@pytest.fixture
def broker_down(monkeypatch):
    """Enqueueing fails as it does when Redis refuses the connection; call the fixture's
    value when the broker is back."""

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_message, "apply_async", refuse)
    return monkeypatch.undo


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """One round of the beat's sweep; what it hands over runs (eagerly) as it commits."""

    def _sweep() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return messages_hand_over_overdue()

    return _sweep


def owed_since(message: Message, seconds: float) -> None:
    Message.objects.filter(pk=message.pk).update(
        send_after=timezone.now() - timedelta(seconds=seconds)
    )


def texts_sent(fake_cloud) -> list[str]:
    return [request["body"]["text"]["body"] for request in fake_cloud.sent]


@pytest.mark.django_db
def test_with_the_broker_unreachable_the_api_answers_201_queued_and_the_sweep_sends_it_once(
    broker_down, fake_cloud, conversation, agent, sweep, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent.user).key}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/conversations/{conversation.pk}/messages/",
            {"text": "We ship tomorrow."},
            format="json",
        )

    assert response.status_code == 201
    assert response.json() == {"id": response.json()["id"], "status": "queued"}
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.status, message.send_after) == (MessageStatus.QUEUED, message.created_at)
    assert fake_cloud.sent == []

    assert sweep() == 0  # within the grace: the sweep lets the task come first

    broker_down()  # the broker is back
    owed_since(message, HANDOVER_GRACE.total_seconds() + 1)
    assert sweep() == 1
    assert sweep() == 0
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert (message.send_after, message.claimed_until) == (None, None)
    assert texts_sent(fake_cloud) == ["We ship tomorrow."]


@pytest.fixture
def chat(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    agent = MembershipFactory()
    channel = ChannelFactory(organization=agent.organization)
    agent.projects.set([channel.project])
    return ConversationFactory(channel=channel, agent=agent, last_inbound_at=timezone.now())


@pytest.mark.django_db(transaction=True)
async def test_a_reply_from_the_dock_while_the_broker_is_down_is_acknowledged_queued(
    broker_down, chat
):
    communicator, _ = await open_dock(chat.agent)

    reply = await command(
        communicator, {"type": "message.send", "id": 1, "conversation": chat.pk, "text": "Noted."}
    )

    assert reply["ok"] is True
    assert reply["data"]["message"]["status"] == "queued"
    message = await Message.objects.aget(pk=reply["data"]["message"]["id"])
    assert message.send_after is not None
    await communicator.disconnect()


@pytest.mark.django_db
def test_the_sweep_leaves_a_fresh_reply_to_the_task_its_send_enqueued(
    broker, fake_cloud, conversation, agent, sweep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message_send_text(conversation=conversation, sender=agent, text="On my way.")
    assert broker.llen("celery") == 1

    assert sweep() == 0
    assert broker.llen("celery") == 1


@pytest.mark.django_db
def test_a_slow_task_and_the_sweeps_hand_over_send_the_reply_once(
    broker, fake_cloud, conversation, agent, sweep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = message_send_text(conversation=conversation, sender=agent, text="Done.")
    # The task waits in a long queue past the grace, so the sweep asks a second time.
    owed_since(message, HANDOVER_GRACE.total_seconds() + 1)
    assert sweep() == 1
    assert broker.llen("celery") == 2
    # ... and it asks once: the hand-over counts as new.
    assert sweep() == 0

    send_message.apply(args=(message.pk,))
    send_message.apply(args=(message.pk,))

    assert texts_sent(fake_cloud) == ["Done."]
    message.refresh_from_db()
    assert (message.status, message.send_attempts) == (MessageStatus.SENT, 1)


# In these tests the hand-over made as a reply commits never runs (nothing commits): as
# if the broker had lost it.


@pytest.mark.django_db
def test_a_reply_a_live_worker_holds_is_neither_handed_over_nor_sent_again(
    fake_cloud, conversation, agent, sweep
):
    message = message_send_text(conversation=conversation, sender=agent, text="Checking.")
    owed_since(message, HANDOVER_GRACE.total_seconds() + 60)
    assert message_claim(message_id=message.pk) is not None  # a worker mid-send

    assert sweep() == 0
    send_message.apply(args=(message.pk,))  # its task, delivered again
    assert fake_cloud.sent == []


@pytest.mark.django_db
def test_a_reply_whose_worker_died_mid_send_is_sent_once_its_lease_runs_out(
    fake_cloud, conversation, agent, sweep
):
    message = message_send_text(conversation=conversation, sender=agent, text="Refund issued.")
    owed_since(message, CLAIM_LEASE.total_seconds() + 60)
    almost_a_lease_ago = timezone.now() - CLAIM_LEASE + timedelta(seconds=30)
    assert message_claim(message_id=message.pk, now=almost_a_lease_ago) is not None
    assert sweep() == 0

    Message.objects.filter(pk=message.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert sweep() == 1
    message.refresh_from_db()
    assert (message.status, message.send_attempts) == (MessageStatus.SENT, 2)
    assert texts_sent(fake_cloud) == ["Refund issued."]


@pytest.mark.django_db
def test_a_busy_cloud_api_leaves_the_next_attempt_in_the_row_for_the_sweep(
    fake_cloud, conversation, agent, sweep
):
    message = message_send_text(conversation=conversation, sender=agent, text="Thanks!")
    fake_cloud.fail_next(1, status=503, code=131016)
    before = timezone.now()

    with pytest.raises(SendDeferred):
        message_transmit(message_id=message.pk, transport=transport)

    message.refresh_from_db()
    assert (message.status, message.claimed_until, message.send_attempts) == (
        MessageStatus.QUEUED,
        None,
        1,
    )
    assert message.send_after is not None and message.send_after > before
    # The task asked to run again then; the sweep waits past that.
    assert sweep() == 0

    owed_since(message, HANDOVER_GRACE.total_seconds() + 1)
    assert sweep() == 1
    assert texts_sent(fake_cloud) == ["Thanks!"]


@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_the_same_reply_at_once_send_it_once(fake_cloud, monkeypatch):
    conversation = ConversationFactory(agent=MembershipFactory(), last_inbound_at=timezone.now())
    monkeypatch.setattr(send_message, "apply_async", lambda *a, **k: None)
    message = message_send_text(
        conversation=conversation, sender=conversation.agent, text="Only once, please."
    )

    class SlowTransport:
        """The Cloud API taking its time, so both workers are inside the send together."""

        @staticmethod
        def send_text(**kwargs):
            time.sleep(0.3)
            return transport.send_text(**kwargs)

        send_template = staticmethod(transport.send_template)
        mark_read = staticmethod(transport.mark_read)

    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            message_transmit(message_id=message.pk, transport=SlowTransport)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert errors == []
    assert texts_sent(fake_cloud) == ["Only once, please."]
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
