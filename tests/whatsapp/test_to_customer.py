"""What the customer sees of the agent: their message shown read once the agent opens
the chat (once, however many docks open it), the agent typing (at most every 20 s), and
their own reactions shown on the message they react to."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from channels_whatsapp import transport
from conversations import receipts
from conversations.messaging import InboundMessage, conversation_mark_read, delivery_record
from conversations.models import Direction, DockEvent, Message, MessageStatus
from tests.factories import ConversationFactory, MembershipFactory, MessageFactory
from tests.whatsapp import payloads as p


def _clear_typing_marks() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("cxgear:typing:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def unread(channel, agent):
    conversation = ConversationFactory(channel=channel, agent=agent, unread_count=2)
    MessageFactory(
        conversation=conversation,
        wamid="wamid.first",
        sent_at=timezone.now() - timedelta(minutes=2),
    )
    MessageFactory(conversation=conversation, wamid="wamid.last", sent_at=timezone.now())
    return conversation


def read(conversation, agent, capture):
    with capture(execute=True):
        conversation_mark_read(conversation=conversation, member=agent)


# --- read receipts ----------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_a_chat_marks_the_customers_last_message_read_on_whatsapp(
    unread, agent, fake_cloud, django_capture_on_commit_callbacks
):
    read(unread, agent, django_capture_on_commit_callbacks)
    assert fake_cloud.reads == [
        {
            "phone_number_id": unread.channel.phone_number_id,
            "message_id": "wamid.last",
            "typing": False,
        }
    ]
    assert Message.objects.get(wamid="wamid.last").read_receipt_at is not None
    assert Message.objects.get(wamid="wamid.first").read_receipt_at is None


@pytest.mark.django_db
def test_the_read_call_is_the_cloud_apis_own():
    assert transport.read_request(wamid="wamid.X", typing=False) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.X",
    }
    assert transport.read_request(wamid="wamid.X", typing=True)["typing_indicator"] == {
        "type": "text"
    }


@pytest.mark.django_db
def test_a_message_is_marked_read_once_and_a_new_one_again(
    unread, agent, fake_cloud, django_capture_on_commit_callbacks
):
    read(unread, agent, django_capture_on_commit_callbacks)
    unread.refresh_from_db()
    unread.unread_count = 1  # the dock opened again with the same last message unread
    unread.save(update_fields=["unread_count"])
    read(unread, agent, django_capture_on_commit_callbacks)
    assert [r["message_id"] for r in fake_cloud.reads] == ["wamid.last"]

    MessageFactory(conversation=unread, wamid="wamid.newer", sent_at=timezone.now())
    unread.unread_count = 1
    unread.save(update_fields=["unread_count"])
    read(unread, agent, django_capture_on_commit_callbacks)
    assert [r["message_id"] for r in fake_cloud.reads] == ["wamid.last", "wamid.newer"]


@pytest.mark.django_db(transaction=True)
def test_two_docks_opening_the_chat_at_once_send_one_read_receipt(fake_cloud):
    agent = MembershipFactory()
    conversation = ConversationFactory(agent=agent, unread_count=1)
    MessageFactory(conversation=conversation, wamid="wamid.only")
    start = threading.Barrier(2)
    claimed: list[bool] = []
    errors: list[BaseException] = []

    def open_chat() -> None:
        try:
            with transaction.atomic():
                start.wait()
                claimed.append(receipts.read_receipt_owed(conversation_id=conversation.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_chat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(claimed) == [False, True]
    assert [r["message_id"] for r in fake_cloud.reads] == ["wamid.only"]


@pytest.mark.django_db(transaction=True)
def test_the_same_agent_opening_the_chat_twice_at_once_sends_one_read_receipt(fake_cloud):
    agent = MembershipFactory()
    conversation = ConversationFactory(agent=agent, unread_count=1)
    MessageFactory(conversation=conversation, wamid="wamid.only")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def open_chat() -> None:
        try:
            start.wait()
            conversation_mark_read(conversation=conversation, member=agent)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_chat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert [r["message_id"] for r in fake_cloud.reads] == ["wamid.only"]


# --- typing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_typing_is_sent_at_most_once_in_twenty_seconds_per_chat(
    unread, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.conversation_typing(conversation=unread) is True
        for _ in range(5):
            assert receipts.conversation_typing(conversation=unread) is False
    assert fake_cloud.reads == [
        {
            "phone_number_id": unread.channel.phone_number_id,
            "message_id": "wamid.last",
            "typing": True,
        }
    ]
    client = redis.Redis.from_url(settings.REDIS_URL)
    ttl = client.ttl(f"cxgear:typing:{unread.pk}")
    client.close()
    assert 0 < ttl <= receipts.TYPING_EVERY_SECONDS

    _clear_typing_marks()  # twenty seconds later
    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.conversation_typing(conversation=unread) is True
    assert [r["typing"] for r in fake_cloud.reads] == [True, True]


@pytest.mark.django_db
def test_each_chat_has_its_own_typing_throttle(
    unread, channel, agent, fake_cloud, django_capture_on_commit_callbacks
):
    other = ConversationFactory(channel=channel, agent=agent)
    MessageFactory(conversation=other, wamid="wamid.other")
    with django_capture_on_commit_callbacks(execute=True):
        assert receipts.conversation_typing(conversation=unread)
        assert receipts.conversation_typing(conversation=other)
    assert sorted(r["message_id"] for r in fake_cloud.reads) == ["wamid.last", "wamid.other"]


# --- reactions ----------------------------------------------------------------------------


def reaction(channel, to: str, emoji: str, *, at: int) -> InboundMessage:
    from datetime import UTC, datetime

    return InboundMessage(
        wamid=p.wamid(),
        wa_id=p.CUSTOMER,
        user_id=None,
        profile_name=p.CUSTOMER_NAME,
        sent_at=datetime.fromtimestamp(at, tz=UTC),
        type="reaction",
        text=emoji,
        media={"message_id": to, "emoji": emoji},
        context_wamid=to,
    )


@pytest.mark.django_db
def test_a_customers_reaction_shows_on_the_message_it_reacts_to(post, channel, agent):
    conversation = ConversationFactory(channel=channel, agent=agent)
    reply = MessageFactory(
        conversation=conversation, direction=Direction.OUT, status=MessageStatus.SENT
    )
    post(
        channel, p.inbound(channel, "reaction", {"message_id": reply.wamid, "emoji": "\U0001f44d"})
    )
    reply.refresh_from_db()
    assert reply.reaction == "\U0001f44d"
    # Kept on the message, not as a message of its own.
    assert Message.objects.filter(conversation=conversation).count() == 1
    (event,) = DockEvent.objects.filter(membership=agent, type="message.updated")
    assert (event.data["id"], event.data["reaction"]) == (reply.pk, "\U0001f44d")


@pytest.mark.django_db
def test_an_empty_reaction_takes_it_away_and_an_older_one_arriving_late_does_not_win(
    channel, agent
):
    conversation = ConversationFactory(channel=channel, agent=agent)
    reply = MessageFactory(conversation=conversation, direction=Direction.OUT)
    now = int(timezone.now().timestamp())
    delivery_record(
        channel=channel, messages=[reaction(channel, reply.wamid, "\u2764\ufe0f", at=now)]
    )
    delivery_record(channel=channel, messages=[reaction(channel, reply.wamid, "", at=now + 5)])
    reply.refresh_from_db()
    assert reply.reaction == ""
    late = delivery_record(
        channel=channel, messages=[reaction(channel, reply.wamid, "\U0001f602", at=now + 1)]
    )
    reply.refresh_from_db()
    assert (reply.reaction, late.reactions_ignored) == ("", 1)
    assert [
        e.data["reaction"] for e in DockEvent.objects.filter(type="message.updated").order_by("seq")
    ] == [
        "\u2764\ufe0f",
        "",
    ]


@pytest.mark.django_db
def test_a_reaction_to_a_message_never_recorded_changes_nothing(channel):
    result = delivery_record(
        channel=channel,
        messages=[
            reaction(channel, "wamid.unknown", "\U0001f44d", at=int(timezone.now().timestamp()))
        ],
    )
    assert (result.reactions_applied, result.reactions_ignored, result.stored) == (0, 1, 0)
    assert not Message.objects.exists()
