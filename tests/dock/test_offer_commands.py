"""Offers through the dock's socket: the snapshot carries them, the offer arrives live,
and a late Accept is refused with a reason the page can show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from conversations.models import Conversation, ConversationStatus
from routing.router import route_queue
from tests.dock.conftest import command, open_dock
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]


@pytest.fixture
def offered():
    agent = MembershipFactory(max_open=3)
    channel = ChannelFactory(organization=agent.organization)
    channel.project.offer_timeout_seconds = 30
    channel.project.save(update_fields=["offer_timeout_seconds"])
    agent.projects.set([channel.project])
    chat = ConversationFactory(channel=channel)
    route_queue(organization_id=agent.organization_id)
    return agent, chat


async def test_the_snapshot_carries_the_offer_and_accept_makes_it_the_agents(offered):
    agent, chat = offered
    communicator, snapshot = await open_dock(agent)

    assert [o["id"] for o in snapshot["data"]["offers"]] == [chat.pk]
    assert snapshot["data"]["me"]["open_count"] == 1
    reply = await command(communicator, {"type": "offer.accept", "id": 1, "conversation": chat.pk})

    assert reply["ok"] is True and reply["data"]["conversation"]["status"] == "assigned"
    await communicator.disconnect()


async def test_a_late_accept_is_refused_with_its_reason_and_a_decline_still_works(offered):
    agent, chat = offered
    await sync_to_async(Conversation.objects.filter(pk=chat.pk).update)(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    communicator, _ = await open_dock(agent)

    late = await command(communicator, {"type": "offer.accept", "id": 1, "conversation": chat.pk})
    assert (late["ok"], late["code"]) == (False, "offer_gone")
    assert "ran out" in late["error"]

    declined = await command(
        communicator, {"type": "offer.decline", "id": 2, "conversation": chat.pk}
    )
    assert declined["ok"] is True
    assert declined["data"]["conversation"]["status"] == ConversationStatus.QUEUED
    bad = await command(communicator, {"type": "offer.decline", "id": 3, "conversation": "x"})
    assert bad["ok"] is False and "conversation id" in bad["error"]
    await communicator.disconnect()
