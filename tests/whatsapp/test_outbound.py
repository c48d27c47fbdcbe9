"""Replies to customers: stored as queued, handed to the Cloud API, retried when WhatsApp
is busy, failed with WhatsApp's reason when it refuses."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from channels_whatsapp import transport
from conversations.messaging import (
    ConversationClosed,
    InvalidMessage,
    OutsideServiceWindow,
    conversation_mark_read,
    message_mark_sent,
    message_send_text,
)
from conversations.models import (
    ConversationStatus,
    Direction,
    DockEvent,
    Message,
    MessageStatus,
)
from tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Send as the dock would; the Celery task runs (eagerly) once the send commits."""

    def _send(conversation, sender, text="Your renewal is confirmed."):
        with django_capture_on_commit_callbacks(execute=True):
            message = message_send_text(conversation=conversation, sender=sender, text=text)
        message.refresh_from_db()
        return message

    return _send


def test_a_reply_is_posted_to_the_cloud_api_and_marked_sent_with_its_wamid(
    fake_cloud, conversation, agent, send
):
    message = send(conversation, agent, "  Your renewal is confirmed.  ")
    (request,) = fake_cloud.sent
    assert request["phone_number_id"] == conversation.channel.phone_number_id
    assert request["authorization"] == "Bearer test-access-token"
    assert request["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": conversation.contact.wa_id,
        "type": "text",
        "text": {"preview_url": False, "body": "Your renewal is confirmed."},
    }
    assert message.direction == Direction.OUT
    assert message.sender == agent
    assert message.status == MessageStatus.SENT
    assert message.wamid == request["wamid"]


def test_the_agent_sees_the_reply_queued_then_sent(fake_cloud, conversation, agent, send):
    message = send(conversation, agent)
    events = list(DockEvent.objects.filter(membership=agent).order_by("seq"))
    assert [(e.type, e.data["status"]) for e in events] == [
        ("message.created", "queued"),
        ("message.status", "sent"),
    ]
    assert events[0].data["id"] == message.pk


def test_a_customer_known_only_by_user_id_is_addressed_by_it(fake_cloud, channel, agent, send):
    contact = ContactFactory(organization=channel.organization, wa_id=None, user_id="US.1349120")
    conversation = ConversationFactory(channel=channel, contact=contact, agent=agent)
    send(conversation, agent)
    body = fake_cloud.sent[0]["body"]
    assert body["recipient"] == "US.1349120"
    assert "to" not in body


def test_outside_the_24_hour_window_free_text_is_refused(fake_cloud, conversation, agent):
    conversation.last_inbound_at = timezone.now() - timedelta(hours=24, minutes=1)
    conversation.save()
    with pytest.raises(OutsideServiceWindow, match="24 hours"):
        message_send_text(conversation=conversation, sender=agent, text="Still there?")
    assert not Message.objects.exists()


def test_a_customer_who_never_wrote_cannot_get_free_text(fake_cloud, conversation, agent):
    conversation.last_inbound_at = None
    conversation.save()
    with pytest.raises(OutsideServiceWindow):
        message_send_text(conversation=conversation, sender=agent, text="Hello")


def test_a_closed_conversation_takes_no_reply(conversation, agent):
    conversation.status = ConversationStatus.CLOSED
    conversation.agent = None
    conversation.save()
    with pytest.raises(ConversationClosed):
        message_send_text(conversation=conversation, sender=agent, text="One more thing")


@pytest.mark.parametrize("text", ["", "   ", "x" * 4097])
def test_an_empty_or_overlong_text_is_refused(conversation, agent, text):
    with pytest.raises(InvalidMessage):
        message_send_text(conversation=conversation, sender=agent, text=text)
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("status", "code"), [(500, 1), (503, 131016), (429, 130429), (400, 130429), (400, 131000)]
)
def test_a_busy_cloud_api_is_retried_until_it_takes_the_message(
    fake_cloud, conversation, agent, send, status, code
):
    fake_cloud.fail_next(2, status=status, code=code)
    message = send(conversation, agent)
    assert message.status == MessageStatus.SENT
    assert len(fake_cloud.sent) == 1  # the two failures were not recorded as sent


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (131047, "Re-engagement message"),
        (131026, "Message undeliverable"),
        (100, "Invalid parameter"),
    ],
)
def test_a_permanent_refusal_fails_the_message_with_whatsapps_reason(
    fake_cloud, conversation, agent, send, code, title
):
    fake_cloud.fail_next(1, status=400, code=code)
    message = send(conversation, agent)
    assert message.status == MessageStatus.FAILED
    assert message.error == {"code": code, "title": title, "message": title}
    assert message.wamid is None
    assert fake_cloud.sent == []
    last = DockEvent.objects.filter(membership=agent).order_by("-seq").first()
    assert (last.type, last.data["status"]) == ("message.status", "failed")


def test_a_message_never_taken_fails_after_bounded_retries(fake_cloud, conversation, agent, send):
    fake_cloud.fail_next(20, status=500, code=131016)
    message = send(conversation, agent)
    assert message.status == MessageStatus.FAILED
    assert message.error["title"] == "not sent after retries"


def test_an_unreachable_cloud_api_is_retried_then_failed(settings, conversation, agent, send):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.WHATSAPP_GRAPH_URL = f"http://127.0.0.1:{port}/v21.0"
    message = send(conversation, agent)
    assert message.status == MessageStatus.FAILED
    assert "ConnectError" in message.error["message"]


def test_a_status_that_arrived_first_is_not_moved_back_by_the_send(conversation, agent):
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=Direction.OUT,
        text="hi",
        status=MessageStatus.DELIVERED,
        sender=agent,
    )
    message_mark_sent(message_id=message.pk, wamid="wamid.LATE")
    message.refresh_from_db()
    assert (message.status, message.wamid) == (MessageStatus.DELIVERED, "wamid.LATE")


def test_the_transport_tells_retryable_from_permanent_graph_errors():
    assert {1, 2, 4, 130429, 131016, 131000} <= transport.RETRYABLE_CODES
    assert not {100, 131026, 131047} & transport.RETRYABLE_CODES


def test_reading_the_thread_clears_its_unread_count(conversation, agent):
    conversation.unread_count = 4
    conversation.save()
    conversation_mark_read(conversation=conversation, member=agent)
    conversation.refresh_from_db()
    assert conversation.unread_count == 0
    event = DockEvent.objects.get(membership=agent)
    assert (event.type, event.data["unread_count"]) == ("conversation.updated", 0)
    conversation_mark_read(conversation=conversation, member=agent)
    assert DockEvent.objects.filter(membership=agent).count() == 1
