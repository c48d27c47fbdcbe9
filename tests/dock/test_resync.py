"""A dock that was away catches up by replaying the events it missed onto the state it
had; the result is what a fresh snapshot shows. The reducer below does what the page
does with each event type."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from presence.models import AgentPresence
from routing.services import conversation_close
from tests.dock.conftest import command, open_dock, store_customer_text
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory, MessageFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]


def apply(state: dict[int, dict[str, Any]], me: int, event: dict[str, Any]) -> None:
    data = event["data"]
    if event["type"].startswith("conversation."):
        if data["agent"] == me and data["status"] == "assigned":
            previous = state.get(data["id"], {})
            state[data["id"]] = {"last_message": previous.get("last_message"), **data}
        else:
            state.pop(data["id"], None)
    elif event["type"] in ("message.created", "message.status"):
        chat = state.get(data["conversation"])
        if chat is not None and event["type"] == "message.created":
            chat["last_message"] = {"id": data["id"], "text": data["text"]}


def comparable(chat: dict[str, Any]) -> dict[str, Any]:
    last = chat.get("last_message")
    return {
        "id": chat["id"],
        "status": chat["status"],
        "agent": chat["agent"],
        "unread_count": chat["unread_count"],
        "contact": chat["contact"]["name"],
        "last_inbound_at": chat["last_inbound_at"],
        "last_message": last and {"id": last["id"], "text": last["text"]},
    }


async def test_replaying_missed_events_on_stale_state_equals_a_fresh_snapshot():
    def shift():
        agent = MembershipFactory(max_open=5)
        channel = ChannelFactory(organization=agent.organization)
        agent.projects.set([channel.project])
        keep = ConversationFactory(channel=channel, agent=agent, contact__wa_id="4470001")
        close = ConversationFactory(channel=channel, agent=agent, contact__wa_id="4470002")
        MessageFactory(conversation=keep, text="first")
        return agent, channel, keep, close

    agent, channel, keep, close = await sync_to_async(shift)()
    dock, stale = await open_dock(agent)
    await dock.disconnect()

    def while_away():
        store_customer_text(channel, "4470001", "Kept", "are you there?")
        store_customer_text(
            channel, "4470009", "Newcomer", "hello, new here"
        )  # routed to the agent
        conversation_close(conversation=close, actor=agent, outcome="Resolved")
        store_customer_text(channel, "4470001", "Kept", "hello??")

    await sync_to_async(while_away)()

    dock, fresh = await open_dock(agent)
    replay = await command(dock, {"type": "resync", "id": "r", "after": stale["seq"]})
    await dock.disconnect()

    assert [e["seq"] for e in replay["events"]] == list(range(stale["seq"] + 1, fresh["seq"] + 1))
    state = {c["id"]: c for c in stale["data"]["conversations"]}
    for event in replay["events"]:
        apply(state, agent.pk, event)
    expected = {c["id"]: c for c in fresh["data"]["conversations"]}
    assert set(state) == set(expected)
    assert len(expected) == 2  # the kept chat and the newcomer's
    for chat_id, chat in expected.items():
        if chat_id == keep.pk:
            assert comparable(state[chat_id]) == comparable(chat)
        else:
            # A new chat's messages came before it was the agent's; the page loads its
            # thread when it arrives.
            assert {**comparable(state[chat_id]), "last_message": None} == {
                **comparable(chat),
                "last_message": None,
            }


async def test_connecting_and_beating_keep_the_dock_seen():
    agent = await sync_to_async(MembershipFactory)()
    await sync_to_async(AgentPresence.objects.filter(membership=agent).update)(dock_seen_at=None)

    dock, _ = await open_dock(agent)
    seen = await sync_to_async(AgentPresence.objects.get)(membership=agent)
    assert seen.dock_seen_at is not None

    await sync_to_async(AgentPresence.objects.filter(membership=agent).update)(
        dock_seen_at=timezone.now() - timedelta(minutes=5)
    )
    await dock.send_json_to({"type": "heartbeat"})
    reply = await command(dock, {"type": "agents.available", "id": "after-beat"})
    assert reply["ok"] is True
    beaten = await sync_to_async(AgentPresence.objects.get)(membership=agent)
    assert timezone.now() - beaten.dock_seen_at < timedelta(seconds=30)
    await dock.disconnect()
