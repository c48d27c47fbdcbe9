"""The whole loop with real processes: a Celery worker on Redis sends the agent's reply
to the fake Cloud API, which reports sent, delivered and read back through the webhook
of a live server."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conversations.messaging import message_send_text
from conversations.models import Message, MessageStatus
from tests.celery_worker import celery_worker, wait_until  # noqa: F401
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def celery_worker_env(fake_cloud):
    return {"WHATSAPP_GRAPH_URL": fake_cloud.graph_url}


@pytest.fixture
def conversation(live_server, fake_cloud):
    channel = ChannelFactory()
    fake_cloud.webhook_url = f"{live_server.url}/webhooks/whatsapp/{channel.key}/"
    fake_cloud.app_secret = channel.app_secret
    agent = MembershipFactory(organization=channel.organization)
    return ConversationFactory(channel=channel, agent=agent, last_inbound_at=timezone.now())


def status_of(message_id: int) -> str:
    return Message.objects.values_list("status", flat=True).get(pk=message_id)


def test_a_reply_is_sent_by_the_worker_and_read_by_the_customer(
    celery_worker,  # noqa: F811
    fake_cloud,
    conversation,
):
    message = message_send_text(
        conversation=conversation, sender=conversation.agent, text="Your technician comes at 9."
    )
    seen = [MessageStatus.QUEUED]

    def read() -> bool:
        """the reply is read"""
        status = status_of(message.pk)
        if status != seen[-1]:
            seen.append(status)
        return status == MessageStatus.READ

    wait_until(read, timeout=60, interval=0.02)
    message.refresh_from_db()
    (request,) = fake_cloud.sent
    assert message.wamid == request["wamid"]
    assert request["body"]["text"]["body"] == "Your technician comes at 9."
    # Observed in order, never backwards (a fast phase may pass between two looks).
    order = [MessageStatus.QUEUED, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]
    assert seen == sorted(seen, key=order.index)

    def answered() -> bool:
        """the webhook answered all three status deliveries"""
        return len(fake_cloud.webhook_results) == 3

    wait_until(answered, timeout=30)
    assert fake_cloud.webhook_results == [200, 200, 200]


def test_a_5xx_from_the_cloud_api_is_retried_by_the_worker_then_sent(
    celery_worker,  # noqa: F811
    fake_cloud,
    conversation,
):
    fake_cloud.statuses = ()
    fake_cloud.fail_next(1, status=503, code=131016)
    message = message_send_text(
        conversation=conversation, sender=conversation.agent, text="Sorry for the wait."
    )

    def sent() -> bool:
        """the reply is sent after a retry"""
        return status_of(message.pk) == MessageStatus.SENT

    wait_until(sent, timeout=60)
    message.refresh_from_db()
    assert message.wamid == fake_cloud.sent[0]["wamid"]
    assert len(fake_cloud.sent) == 1
