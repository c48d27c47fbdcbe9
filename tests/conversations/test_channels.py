"""Channels plug into the core: a reply goes out through the transport its channel's kind
registered, and the core itself names no channel."""

from __future__ import annotations

import pytest
from django.utils import timezone

from channels_whatsapp import transport as whatsapp_transport
from conversations import channels
from conversations.messaging import message_send_text
from conversations.models import ChannelKind, MessageStatus
from conversations.tasks import send_message
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str | None, str]] = []

    def send_text(self, *, channel, wa_id, user_id, body):
        self.sent.append((channel.pk, wa_id, body))
        return f"wamid.{len(self.sent)}"


def test_the_whatsapp_app_registers_its_cloud_api_transport():
    assert channels.transport_for(kind=ChannelKind.WHATSAPP) is whatsapp_transport


def test_a_reply_is_sent_through_the_transport_registered_for_its_channel_kind(monkeypatch):
    recording = RecordingTransport()
    monkeypatch.setitem(channels._transports, ChannelKind.WHATSAPP, recording)
    channel = ChannelFactory()
    agent = MembershipFactory(organization=channel.organization)
    conversation = ConversationFactory(channel=channel, agent=agent, last_inbound_at=timezone.now())
    message = message_send_text(conversation=conversation, sender=agent, text="On its way.")

    send_message.apply(args=(message.pk,))

    assert recording.sent == [(channel.pk, conversation.contact.wa_id, "On its way.")]
    message.refresh_from_db()
    assert (message.status, message.wamid) == (MessageStatus.SENT, "wamid.1")


def test_a_kind_no_app_registered_has_no_transport():
    with pytest.raises(channels.NoTransport):
        channels.transport_for(kind="carrier-pigeon")


def test_two_transports_for_one_kind_are_refused():
    with pytest.raises(ValueError, match="registered already"):
        channels.register(kind=ChannelKind.WHATSAPP, transport=RecordingTransport())
    assert channels.transport_for(kind=ChannelKind.WHATSAPP) is whatsapp_transport
