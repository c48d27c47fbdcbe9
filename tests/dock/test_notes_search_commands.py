"""The dock's commands for notes, quick replies, search and transcripts: what each gives
an agent, and what it keeps from them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from conversations.models import ConversationStatus, Direction, Message, QuickReply
from tests.dock.conftest import command, open_dock
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
    """Ana works Maria's chat; Maria had an earlier chat with Ben. Ben alone worked Olga's."""
    ana = MembershipFactory(max_open=5)
    ben = MembershipFactory(organization=ana.organization)
    channel = ChannelFactory(organization=ana.organization)
    maria = ContactFactory(organization=ana.organization, name="Maria Lopez")
    live = ConversationFactory(channel=channel, agent=ana, contact=maria)
    MessageFactory(conversation=live, text="Is my discount still valid?")
    long_ago = timezone.now() - timedelta(days=20)
    earlier = ConversationFactory(
        channel=channel,
        agent=ben,
        contact=maria,
        status=ConversationStatus.CLOSED,
        closed_at=long_ago,
        created_at=long_ago,
    )
    MessageFactory(conversation=earlier, text="The parcel went to the depot", sent_at=long_ago)
    olga = ConversationFactory(channel=channel, agent=ben, contact__name="Olga Petrova")
    MessageFactory(conversation=olga, text="The depot is closed")
    return {"ana": ana, "ben": ben, "live": live, "earlier": earlier, "olga": olga}


async def test_a_note_is_kept_and_told_to_the_dock_as_a_note(desk):
    communicator, _ = await open_dock(desk["ana"])

    reply = await command(
        communicator,
        {"type": "note.add", "id": 1, "conversation": desk["live"].pk, "text": "VIP customer"},
    )

    assert reply["ok"], reply
    assert reply["data"]["message"]["direction"] == "note"
    event = await communicator.receive_json_from(timeout=5)
    assert (event["type"], event["data"]["direction"]) == ("message.created", "note")
    note = await sync_to_async(Message.objects.get)(direction=Direction.NOTE)
    assert note.send_after is None
    await communicator.disconnect()


async def test_the_quick_replies_of_the_organization_are_listed(desk):
    await sync_to_async(QuickReply.objects.create)(
        organization=desk["ana"].organization, shortcut="hi", text="Hello!"
    )
    await sync_to_async(QuickReply.objects.create)(
        organization=(await sync_to_async(MembershipFactory)()).organization,
        shortcut="theirs",
        text="Not ours",
    )
    communicator, _ = await open_dock(desk["ana"])

    reply = await command(communicator, {"type": "quick_replies.list", "id": 1})

    assert [r["shortcut"] for r in reply["data"]["quick_replies"]] == ["hi"]
    await communicator.disconnect()


async def test_an_agent_finds_only_their_own_conversations(desk):
    communicator, _ = await open_dock(desk["ana"])

    reply = await command(
        communicator, {"type": "conversations.search", "id": 1, "query": "discount"}
    )
    nothing = await command(
        communicator, {"type": "conversations.search", "id": 2, "query": "depot"}
    )

    found = reply["data"]["conversations"]
    assert [c["id"] for c in found] == [desk["live"].pk]
    assert found[0]["match"]["text"] == "Is my discount still valid?"
    # Ben's chats with "depot", Maria's earlier one among them, are not Ana's.
    assert nothing["data"]["conversations"] == []
    await communicator.disconnect()


async def test_an_earlier_chat_of_a_customer_one_works_with_reads_as_a_transcript(desk):
    communicator, _ = await open_dock(desk["ana"])

    earlier = await command(
        communicator, {"type": "transcript.load", "id": 1, "conversation": desk["earlier"].pk}
    )
    unrelated = await command(
        communicator, {"type": "transcript.load", "id": 2, "conversation": desk["olga"].pk}
    )

    assert earlier["ok"], earlier
    assert [m["text"] for m in earlier["data"]["messages"]] == ["The parcel went to the depot"]
    assert (unrelated["ok"], unrelated["error"]) == (False, "no such conversation")
    await communicator.disconnect()
