"""What the agent does from the dock reaches the same services the API uses, and the
answer (or the reason it was refused) comes back to the request that asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from conversations.models import Conversation, ConversationStatus, Role
from presence.models import AgentPresence, PresenceStatus
from tests.dock.conftest import command, open_dock
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]


@pytest.fixture
def chat():
    agent = MembershipFactory(max_open=3, skills=["billing"])
    channel = ChannelFactory(organization=agent.organization)
    agent.projects.set([channel.project])
    conversation = ConversationFactory(channel=channel, agent=agent, unread_count=2)
    return conversation


async def next_event(communicator, event_type: str) -> dict:
    while True:
        frame = await communicator.receive_json_from(timeout=10)
        if frame.get("type") == event_type:
            return frame


async def test_a_reply_from_the_dock_is_sent_through_the_channel(chat, fake_cloud):
    communicator, _ = await open_dock(chat.agent)

    reply = await command(
        communicator,
        {"type": "message.send", "id": 1, "conversation": chat.pk, "text": "  Happy to help!  "},
    )

    assert reply["ok"] is True
    assert reply["data"]["message"]["text"] == "Happy to help!"
    created = await next_event(communicator, "message.created")
    assert created["data"]["id"] == reply["data"]["message"]["id"]
    sent = await next_event(communicator, "message.status")
    assert sent["data"]["status"] == "sent"
    assert [m["body"]["text"]["body"] for m in fake_cloud.sent] == ["Happy to help!"]
    await communicator.disconnect()


async def test_a_reply_after_the_service_window_is_refused_with_the_reason(chat):
    chat.last_inbound_at = timezone.now() - timedelta(hours=25)
    await sync_to_async(chat.save)(update_fields=["last_inbound_at"])
    communicator, _ = await open_dock(chat.agent)

    reply = await command(
        communicator, {"type": "message.send", "id": 2, "conversation": chat.pk, "text": "Hi"}
    )

    assert reply["ok"] is False
    assert reply["code"] == "outside_service_window"
    assert "24 hours" in reply["error"]
    assert not await sync_to_async(chat.messages.exists)()
    await communicator.disconnect()


async def test_reading_a_thread_clears_its_unread_count(chat):
    communicator, _ = await open_dock(chat.agent)

    reply = await command(communicator, {"type": "thread.read", "id": 3, "conversation": chat.pk})

    assert reply["ok"] is True
    await sync_to_async(chat.refresh_from_db)()
    assert chat.unread_count == 0
    await communicator.disconnect()


async def test_presence_chosen_in_the_dock_is_stored_and_comes_back_as_an_event(chat):
    communicator, _ = await open_dock(chat.agent)

    reply = await command(communicator, {"type": "presence.set", "id": 4, "status": "busy"})

    assert reply["data"]["presence"]["status"] == "busy"
    changed = await next_event(communicator, "presence.changed")
    assert changed["data"]["status"] == "busy"
    presence = await sync_to_async(AgentPresence.objects.get)(membership=chat.agent)
    assert (presence.status, presence.source, presence.dock_managed) == ("busy", "dock", True)
    await communicator.disconnect()


async def test_closing_a_chat_records_the_outcome_and_drops_it_from_the_dock(chat):
    communicator, _ = await open_dock(chat.agent)

    missing = await command(
        communicator, {"type": "conversation.close", "id": 5, "conversation": chat.pk}
    )
    assert missing["error"] == "outcome is required"

    reply = await command(
        communicator,
        {"type": "conversation.close", "id": 6, "conversation": chat.pk, "outcome": "Renewed"},
    )

    assert reply["ok"] is True
    closed = await next_event(communicator, "conversation.closed")
    assert closed["data"]["id"] == chat.pk
    stored = await sync_to_async(Conversation.objects.get)(pk=chat.pk)
    assert (stored.status, stored.outcome) == (ConversationStatus.CLOSED, "Renewed")
    await communicator.disconnect()


async def test_a_chat_sent_back_to_the_queue_asks_for_the_skill_and_keeps_the_note(chat):
    communicator, _ = await open_dock(chat.agent)

    reply = await command(
        communicator,
        {
            "type": "conversation.transfer",
            "id": 7,
            "conversation": chat.pk,
            "skill": "Retention",
            "note": "wants to cancel",
        },
    )

    assert reply["ok"] is True, reply
    stored = await sync_to_async(Conversation.objects.get)(pk=chat.pk)
    assert stored.agent_id is None or stored.agent_id != chat.agent_id
    assert "retention" in stored.required_skills
    event = await sync_to_async(lambda: stored.events.filter(kind="transferred").get())()
    assert event.note == "wants to cancel"
    await communicator.disconnect()


async def test_a_chat_handed_to_a_colleague_with_room_lands_in_their_dock(chat):
    def colleague_in_the_project():
        colleague = MembershipFactory(organization=chat.organization, max_open=2)
        colleague.projects.set([chat.project])
        MembershipFactory(organization=chat.organization, role=Role.AGENT)  # not in the project
        return colleague

    colleague = await sync_to_async(colleague_in_the_project)()
    mine, _ = await open_dock(chat.agent)
    theirs, _ = await open_dock(colleague)

    picker = await command(mine, {"type": "agents.available", "id": 8, "conversation": chat.pk})
    assert [a["id"] for a in picker["data"]["agents"]] == [colleague.pk]

    reply = await command(
        mine,
        {
            "type": "conversation.transfer",
            "id": 9,
            "conversation": chat.pk,
            "agent": colleague.pk,
            "note": "billing question",
        },
    )

    assert reply["ok"] is True, reply
    arrived = await next_event(theirs, "conversation.transferred")
    assert (arrived["data"]["id"], arrived["data"]["agent"]) == (chat.pk, colleague.pk)
    left = await next_event(mine, "conversation.transferred")
    assert left["data"]["agent"] == colleague.pk
    await mine.disconnect()
    await theirs.disconnect()


async def test_an_agent_who_is_offline_cannot_be_handed_a_chat(chat):
    def offline_colleague():
        colleague = MembershipFactory(
            organization=chat.organization, presence=PresenceStatus.OFFLINE
        )
        colleague.projects.set([chat.project])
        return colleague

    colleague = await sync_to_async(offline_colleague)()
    communicator, _ = await open_dock(chat.agent)

    reply = await command(
        communicator,
        {"type": "conversation.transfer", "id": 10, "conversation": chat.pk, "agent": colleague.pk},
    )

    assert reply == {
        "type": "reply",
        "command": "conversation.transfer",
        "id": 10,
        "ok": False,
        "error": "that agent is offline",
    }
    await communicator.disconnect()
