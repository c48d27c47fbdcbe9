"""However much a customer writes, no frame the dock's socket sends is longer than the
bound: a thread comes a page at a time, newest first, and a reconnecting dock's replay
comes in as many frames as it takes. daphne drops a socket whose frame passes 1 MB, and
the agent's dock with it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from conversations import messaging, realtime
from conversations.models import ConversationEvent, EventKind
from tests.dock.conftest import command, open_dock
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]

# The bound the dock keeps to (bytes of JSON in one websocket frame).
FRAME_LIMIT = 256 * 1024
# One text at WhatsApp's limit, every character escaped to six bytes in JSON.
LONG_TEXT = "я" * messaging.MAX_TEXT_LENGTH


def long_text(n: int) -> str:
    label = f"Message {n:02d} "
    return label + LONG_TEXT[len(label) :]


@pytest.fixture
def flooded():
    """A chat whose customer sent 50 texts of 4,096 "я" in one delivery (1.2 MB of JSON),
    with a system note among them."""
    agent = MembershipFactory(max_open=5)
    channel = ChannelFactory(organization=agent.organization)
    agent.projects.set([channel.project])
    chat = ConversationFactory(channel=channel, agent=agent, contact__wa_id="447700900555")
    start = timezone.now() - timedelta(hours=1)
    messaging.delivery_record(
        channel=channel,
        messages=[
            messaging.InboundMessage(
                wamid=f"wamid.{uuid4().hex}",
                wa_id="447700900555",
                user_id=None,
                profile_name="Flood",
                sent_at=start + timedelta(seconds=n),
                type="text",
                text=long_text(n),
            )
            for n in range(1, 51)
        ],
    )
    ConversationEvent.objects.create(
        conversation=chat,
        kind=EventKind.TRANSFERRED,
        actor=agent,
        to_agent=agent,
        note="over to you",
        created_at=start + timedelta(seconds=25, milliseconds=500),
    )
    return {"agent": agent, "chat": chat}


async def frames_until(
    communicator: WebsocketCommunicator, done: Any, *, timeout: float = 10
) -> list[str]:
    """Every text frame the dock sends until ``done(frame)`` holds for one, as sent."""
    sent = []
    while True:
        output = await communicator.receive_output(timeout=timeout)
        assert output["type"] == "websocket.send", output
        sent.append(output["text"])
        if done(json.loads(output["text"])):
            return sent


async def test_a_thread_larger_than_a_frame_loads_a_page_at_a_time_newest_first(flooded):
    communicator, _ = await open_dock(flooded["agent"])
    pages = []
    before = None
    while True:
        frame = {"type": "thread.load", "id": len(pages), "conversation": flooded["chat"].pk}
        if before is not None:
            frame["before"] = before
        await communicator.send_json_to(frame)
        (sent,) = await frames_until(communicator, lambda f: f["type"] == "reply")
        assert len(sent.encode()) <= FRAME_LIMIT
        reply = json.loads(sent)
        assert reply["ok"] is True, reply
        pages.append(reply["data"])
        if not reply["data"]["has_more"]:
            break
        before = reply["data"]["before"]
    await communicator.disconnect()

    assert len(pages) >= 5
    assert pages[0]["messages"][-1]["text"] == long_text(50)
    assert pages[0]["context"]["contact"]["wa_id"] == "447700900555"
    texts = [m["text"] for page in reversed(pages) for m in page["messages"]]
    assert texts == [long_text(n) for n in range(1, 51)]
    assert [n["note"] for page in pages for n in page["notes"]] == ["over to you"]


async def test_a_cursor_from_elsewhere_is_refused(flooded):
    def other_chat_message():
        return MessageFactory(conversation__channel=flooded["chat"].channel).pk

    elsewhere = await sync_to_async(other_chat_message)()
    communicator, _ = await open_dock(flooded["agent"])
    for before in (f"m:{elsewhere}", "m:-1", "yesterday", 7):
        reply = await command(
            communicator,
            {"type": "thread.load", "id": 1, "conversation": flooded["chat"].pk, "before": before},
        )
        assert reply["ok"] is False
        assert "before" in reply["error"]
    await communicator.disconnect()


async def test_a_replay_larger_than_a_frame_comes_in_several_with_every_event_once(flooded):
    agent, chat = flooded["agent"], flooded["chat"]
    communicator, stale = await open_dock(agent)
    await communicator.disconnect()

    def customer_floods_again() -> None:
        messaging.delivery_record(
            channel=chat.channel,
            messages=[
                messaging.InboundMessage(
                    wamid=f"wamid.{uuid4().hex}",
                    wa_id="447700900555",
                    user_id=None,
                    profile_name="Flood",
                    sent_at=timezone.now(),
                    type="text",
                    text=long_text(n),
                )
                for n in range(51, 101)
            ],
        )

    await sync_to_async(customer_floods_again)()
    communicator, fresh = await open_dock(agent)
    await communicator.send_json_to({"type": "resync", "id": "r", "after": stale["seq"]})
    sent = await frames_until(communicator, lambda f: f["type"] == "resync" and not f["more"])

    assert len(sent) > 1
    assert all(len(text.encode()) <= FRAME_LIMIT for text in sent)
    events = [e for text in sent for e in json.loads(text)["events"]]
    assert [e["seq"] for e in events] == list(range(stale["seq"] + 1, fresh["seq"] + 1))
    replayed = [e["data"]["text"] for e in events if e["type"] == "message.created"]
    assert replayed == [long_text(n) for n in range(51, 101)]

    # The stream goes on from the last replayed seq: nothing again, nothing skipped.
    await sync_to_async(realtime.publish)("conversation.updated", {"n": 1}, to=[agent.pk])
    assert (await communicator.receive_json_from(timeout=5))["seq"] == fresh["seq"] + 1
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_dock_away_for_too_long_is_told_to_take_its_snapshot(flooded):
    agent = flooded["agent"]
    communicator, stale = await open_dock(agent)
    await communicator.disconnect()
    await sync_to_async(realtime.publish_all)(
        realtime.Event("conversation.updated", {"n": n}, (agent.pk,)) for n in range(1001)
    )

    communicator, fresh = await open_dock(agent)
    reply = await command(communicator, {"type": "resync", "id": "r", "after": stale["seq"]})
    assert reply["snapshot"] is True
    assert reply["events"] == []
    assert reply["more"] is False

    await sync_to_async(realtime.publish)("conversation.updated", {"n": "next"}, to=[agent.pk])
    assert (await communicator.receive_json_from(timeout=5))["seq"] == fresh["seq"] + 1
    await communicator.disconnect()


async def test_the_chat_list_previews_a_long_message_in_a_line(flooded):
    communicator, snapshot = await open_dock(flooded["agent"])
    await communicator.disconnect()
    (chat,) = snapshot["data"]["conversations"]
    assert chat["last_message"]["text"] == long_text(50)[:200]
