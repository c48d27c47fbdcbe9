"""Two deliveries from the same new customer at the same moment (Meta retries, or two
server processes) still make one contact and one open conversation."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from conversations.messaging import InboundMessage, delivery_record
from conversations.models import Contact, Conversation, Message
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_first_messages_share_one_contact_and_conversation(monkeypatch):
    monkeypatch.setattr("conversations.messaging.request_routing", lambda **_: None)
    channel = ChannelFactory()
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def deliver(n: int) -> None:
        message = InboundMessage(
            wamid=f"wamid.RACE{n}",
            wa_id="447700900123",
            user_id=None,
            profile_name="Racing Customer",
            sent_at=datetime.now(tz=UTC),
            type="text",
            text=f"message {n}",
        )
        try:
            start.wait()
            delivery_record(channel=channel, messages=[message])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert Contact.objects.count() == 1
    conversation = Conversation.objects.get()
    assert Message.objects.filter(conversation=conversation).count() == 4
    assert conversation.unread_count == 4
