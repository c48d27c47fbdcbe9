"""The dock's socket: who may open it, what it opens with, and that every event of the
member's stream reaches it once and in order, whatever the channel layer does."""

from __future__ import annotations

from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from conversations import realtime
from conversations.events import EventType
from conversations.models import ConversationStatus, Role
from dock.consumers import CLOSE_NOT_ALLOWED, CLOSE_NOT_SIGNED_IN
from tests.dock.conftest import as_user, command, open_dock
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_passwords")]


@pytest.fixture
def desk():
    """An agent with two open chats, a colleague with one, and a queued chat."""
    agent = MembershipFactory(max_open=5, user__name="Ana Agent")
    colleague = MembershipFactory(organization=agent.organization, max_open=2)
    channel = ChannelFactory(
        organization=agent.organization,
        project__name="Spring Renewals",
        project__metadata={"offer": "12 months at 20% off"},
    )
    first = ConversationFactory(channel=channel, agent=agent, contact__name="Maria Lopez")
    second = ConversationFactory(channel=channel, agent=agent, contact__name="Tom Baker")
    MessageFactory(conversation=first, text="Is my renewal discount still valid?")
    theirs = ConversationFactory(channel=channel, agent=colleague)
    queued = ConversationFactory(channel=channel)
    return {
        "agent": agent,
        "colleague": colleague,
        "channel": channel,
        "first": first,
        "second": second,
        "theirs": theirs,
        "queued": queued,
    }


async def test_an_anonymous_visitor_is_turned_away():
    communicator = WebsocketCommunicator(as_user(AnonymousUser()), "/ws/dock/")
    await communicator.connect()
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_NOT_SIGNED_IN


async def test_an_admin_who_works_no_chats_has_no_dock():
    admin = await sync_to_async(MembershipFactory)(role=Role.ADMIN)
    communicator = WebsocketCommunicator(as_user(admin.user), "/ws/dock/")
    await communicator.connect()
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_NOT_ALLOWED


async def test_the_snapshot_holds_the_agents_open_chats_and_the_seq_it_reflects(desk):
    agent = desk["agent"]
    await sync_to_async(realtime.publish)("conversation.updated", {"id": 1}, to=[agent.pk])

    communicator, snapshot = await open_dock(agent)

    assert snapshot["seq"] == 1
    data = snapshot["data"]
    assert data["me"]["id"] == agent.pk
    assert (data["me"]["open_count"], data["me"]["max_open"]) == (2, 5)
    assert data["presence"]["status"] == "available"
    chats = {c["contact"]["name"]: c for c in data["conversations"]}
    assert set(chats) == {"Maria Lopez", "Tom Baker"}
    assert chats["Maria Lopez"]["last_message"]["text"] == "Is my renewal discount still valid?"
    assert chats["Tom Baker"]["last_message"] is None
    await communicator.disconnect()


async def test_an_event_reaches_its_member_and_no_one_else(desk):
    agent, colleague = desk["agent"], desk["colleague"]
    mine, _ = await open_dock(agent)
    theirs, _ = await open_dock(colleague)

    await sync_to_async(realtime.publish)(
        "conversation.assigned", {"id": desk["first"].pk}, to=[agent.pk]
    )

    event = await mine.receive_json_from(timeout=5)
    assert event == {"type": "conversation.assigned", "seq": 1, "data": {"id": desk["first"].pk}}
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_two_tabs_of_one_agent_see_the_same_events(desk):
    agent = desk["agent"]
    tab_one, _ = await open_dock(agent)
    tab_two, _ = await open_dock(agent)

    await sync_to_async(realtime.publish)("conversation.updated", {"n": 1}, to=[agent.pk])
    await sync_to_async(realtime.publish)("conversation.updated", {"n": 2}, to=[agent.pk])

    for tab in (tab_one, tab_two):
        seen = [await tab.receive_json_from(timeout=5) for _ in range(2)]
        assert [(e["seq"], e["data"]["n"]) for e in seen] == [(1, 1), (2, 2)]
        await tab.disconnect()


async def test_an_event_the_dock_has_sent_already_is_not_sent_again(desk):
    agent = desk["agent"]
    communicator, _ = await open_dock(agent)
    await sync_to_async(realtime.publish)("conversation.updated", {"n": 1}, to=[agent.pk])
    assert (await communicator.receive_json_from(timeout=5))["seq"] == 1

    # The same frame delivered twice by the layer, as a retried send would.
    layer = get_channel_layer()
    await layer.group_send(
        realtime.member_group(agent.pk),
        {"type": "dock.event", "event": {"type": "conversation.updated", "seq": 1, "data": {}}},
    )
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_live_event_after_a_gap_brings_the_missing_ones_from_the_store_first(desk):
    agent = desk["agent"]
    communicator, snapshot = await open_dock(agent)
    assert snapshot["seq"] == 0

    # Three events are stored but the layer loses the first two sends; the third arrives.
    def store_three() -> None:
        for n in (1, 2, 3):
            # A probe of the stream, not a catalogue shape.
            realtime.publish(EventType.CONVERSATION_UPDATED, {"n": n}, to=[agent.pk])  # type: ignore[arg-type]

    layer = get_channel_layer()
    with mock.patch.object(realtime, "_send"):
        await sync_to_async(store_three)()
    await layer.group_send(
        realtime.member_group(agent.pk),
        {
            "type": "dock.event",
            "event": {"type": "conversation.updated", "seq": 3, "data": {"n": 3}},
        },
    )

    seen = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    assert [e["seq"] for e in seen] == [1, 2, 3]
    assert [e["data"]["n"] for e in seen] == [1, 2, 3]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_events_of_one_commit_sent_together_reach_the_dock_in_order_each_once(desk):
    agent = desk["agent"]
    communicator, _ = await open_dock(agent)

    def store_three() -> None:
        for n in (1, 2, 3):
            # A probe of the stream, not a catalogue shape.
            realtime.publish(EventType.CONVERSATION_UPDATED, {"n": n}, to=[agent.pk])  # type: ignore[arg-type]

    with mock.patch.object(realtime, "_send"):
        await sync_to_async(store_three)()
    frames = [{"type": "conversation.updated", "seq": n, "data": {"n": n}} for n in (1, 2, 3)]
    layer = get_channel_layer()
    group = realtime.member_group(agent.pk)
    await layer.group_send(group, {"type": "dock.events", "events": frames[1:]})
    await layer.group_send(group, {"type": "dock.events", "events": frames})

    seen = [await communicator.receive_json_from(timeout=5) for _ in range(3)]
    assert [e["seq"] for e in seen] == [1, 2, 3]
    assert await communicator.receive_nothing(timeout=0.3)
    await communicator.disconnect()


async def test_a_reconnecting_dock_gets_exactly_what_it_missed(desk):
    agent = desk["agent"]
    communicator, _ = await open_dock(agent)
    await sync_to_async(realtime.publish)("conversation.updated", {"n": 1}, to=[agent.pk])
    assert (await communicator.receive_json_from(timeout=5))["seq"] == 1
    await communicator.disconnect()

    for n in (2, 3):  # while the dock is away
        await sync_to_async(realtime.publish)("conversation.updated", {"n": n}, to=[agent.pk])

    again, snapshot = await open_dock(agent)
    assert snapshot["seq"] == 3
    replay = await command(again, {"type": "resync", "id": "r1", "after": 1})
    assert [(e["seq"], e["data"]["n"]) for e in replay["events"]] == [(2, 2), (3, 3)]

    await sync_to_async(realtime.publish)("conversation.updated", {"n": 4}, to=[agent.pk])
    assert (await again.receive_json_from(timeout=5))["seq"] == 4
    assert await again.receive_nothing(timeout=0.3)
    await again.disconnect()


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ([1, 2, 3], "a frame is an object with a type"),
        ({"id": 1}, "a frame is an object with a type"),
        ({"type": "launch.rockets", "id": 2}, "unknown frame type 'launch.rockets'"),
        ({"type": "resync", "id": 3, "after": "yesterday"}, "after must be the last seq"),
        ({"type": "thread.load", "id": 4, "conversation": "one"}, "conversation must be"),
        ({"type": "thread.load", "id": 5, "conversation": 999999}, "no such conversation"),
        ({"type": "presence.set", "id": 6, "status": "asleep"}, "status must be"),
        ({"type": "message.send", "id": 7, "conversation": None, "text": "hi"}, "conversation"),
    ],
)
async def test_a_bad_frame_gets_an_error_and_the_dock_stays_open(desk, frame, error):
    communicator, _ = await open_dock(desk["agent"])
    await communicator.send_json_to(frame)
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] in ("error", "reply")
    assert reply.get("ok") is not True
    assert error in reply["error"]

    ok = await command(communicator, {"type": "agents.available", "id": "still-here"})
    assert ok["ok"] is True
    await communicator.disconnect()


async def test_text_that_is_not_json_gets_an_error(desk):
    communicator, _ = await open_dock(desk["agent"])
    await communicator.send_to(text_data="{not json")
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    await communicator.disconnect()


async def test_a_frame_nested_5000_deep_gets_an_error_and_the_dock_stays_open(desk):
    communicator, _ = await open_dock(desk["agent"])
    await communicator.send_to(text_data="[" * 5000 + "]" * 5000)
    reply = await communicator.receive_json_from(timeout=5)
    assert reply == {"type": "error", "error": "frame refused: JSON nested deeper than 32 levels"}

    ok = await command(communicator, {"type": "agents.available", "id": "still-here"})
    assert ok["ok"] is True
    await communicator.disconnect()


@pytest.mark.parametrize(("bad", "named"), [("\ud800", "lone UTF-16 surrogate"), ("\x00", "NUL")])
async def test_a_reply_with_text_no_database_stores_is_refused_naming_it(desk, bad, named):
    chat = desk["first"]
    communicator, _ = await open_dock(desk["agent"])
    frame = {"type": "message.send", "id": 8, "conversation": chat.pk, "text": f"Hi {bad}"}
    await communicator.send_json_to(frame)
    reply = await communicator.receive_json_from(timeout=5)
    assert reply["type"] == "error"
    assert f"$.text holds a {named}" in reply["error"]
    assert not await sync_to_async(chat.messages.filter(direction="out").exists)()
    await communicator.disconnect()


async def test_an_agent_cannot_load_a_colleagues_chat(desk):
    communicator, _ = await open_dock(desk["agent"])
    reply = await command(
        communicator, {"type": "thread.load", "id": 1, "conversation": desk["theirs"].pk}
    )
    assert reply == {
        "type": "reply",
        "command": "thread.load",
        "id": 1,
        "ok": False,
        "error": "no such conversation",
    }
    await communicator.disconnect()


async def test_a_thread_comes_with_the_customer_their_history_and_the_campaign(desk):
    first = desk["first"]

    def earlier_closed_chat():
        old = ConversationFactory(
            channel=desk["channel"],
            contact=ContactFactory(organization=desk["agent"].organization, wa_id="4470000001"),
            status=ConversationStatus.CLOSED,
            outcome="renewed: 12 months",
        )
        old.contact = first.contact
        old.save(update_fields=["contact"])

    await sync_to_async(earlier_closed_chat)()
    communicator, _ = await open_dock(desk["agent"])

    reply = await command(communicator, {"type": "thread.load", "id": 9, "conversation": first.pk})

    assert reply["ok"] is True
    thread = reply["data"]
    assert [m["text"] for m in thread["messages"]] == ["Is my renewal discount still valid?"]
    context = thread["context"]
    assert context["contact"]["name"] == "Maria Lopez"
    assert context["contact"]["wa_id"] == first.contact.wa_id
    assert context["project"] == {
        "id": first.project_id,
        "name": "Spring Renewals",
        "metadata": {"offer": "12 months at 20% off"},
    }
    assert [c["outcome"] for c in context["earlier"]] == ["renewed: 12 months"]
    assert context["channel"]["display_phone_number"] == desk["channel"].display_phone_number
    await communicator.disconnect()


async def test_the_transfer_picker_lists_available_and_busy_colleagues_with_their_load(desk):
    def more_colleagues():
        org = desk["agent"].organization
        full = MembershipFactory(organization=org, max_open=1, skills=["billing"])
        ConversationFactory(channel=desk["channel"], agent=full)
        busy = MembershipFactory(organization=org, presence="busy")
        MembershipFactory(organization=org, presence="offline")
        MembershipFactory(organization=org, role=Role.ADMIN)
        MembershipFactory()  # another organization's
        return full, busy

    full, busy = await sync_to_async(more_colleagues)()
    communicator, _ = await open_dock(desk["agent"])

    reply = await command(communicator, {"type": "agents.available", "id": "a"})

    colleague = desk["colleague"]
    agents = reply["data"]["agents"]
    # Those with room first; a transfer to the others waits for them.
    assert agents[0]["id"] == colleague.pk
    assert (agents[0]["open_count"], agents[0]["room"], agents[0]["lands"]) == (1, True, "now")
    assert {a["id"]: (a["presence"], a["lands"]) for a in agents[1:]} == {
        full.pk: ("available", "waits"),
        busy.pk: ("busy", "waits"),
    }
    assert "billing" in reply["data"]["skills"]
    await communicator.disconnect()
