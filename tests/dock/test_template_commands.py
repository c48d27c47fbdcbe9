"""The dock's composer outside the 24-hour window: it lists the number's approved
templates, sends one with its parameters, and tells the customer the agent is typing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from channels_whatsapp.templates import templates_sync
from tests.dock.conftest import command, open_dock
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory, MessageFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]


@pytest.fixture
def stale(fake_cloud):
    agent = MembershipFactory()
    channel = ChannelFactory(organization=agent.organization, business_account_id="5550001")
    templates_sync(channel=channel)
    conversation = ConversationFactory(
        channel=channel, agent=agent, last_inbound_at=timezone.now() - timedelta(days=2)
    )
    MessageFactory(conversation=conversation, wamid="wamid.old")
    return conversation


async def test_the_composer_gets_the_approved_templates_with_their_placeholders(stale):
    communicator, _ = await open_dock(stale.agent)
    reply = await command(
        communicator, {"type": "templates.list", "id": 1, "conversation": stale.pk}
    )
    assert reply["ok"] is True
    listed = {(t["name"], t["language"]): t for t in reply["data"]["templates"]}
    assert ("spring_promo", "en") not in listed and ("winback_offer", "en") not in listed
    assert listed[("install_update", "en")]["placeholders"] == ["1", "2"]
    assert listed[("install_update", "en")]["body"].startswith("Hi {{1}}, your fibre")
    await communicator.disconnect()


async def test_a_template_sent_from_the_dock_reaches_the_cloud_api(stale, fake_cloud):
    communicator, _ = await open_dock(stale.agent)
    reply = await command(
        communicator,
        {
            "type": "message.send",
            "id": 2,
            "conversation": stale.pk,
            "template": {"name": "follow_up", "language": "fr", "parameters": ["Camille"]},
        },
    )
    assert reply["ok"] is True, reply
    assert reply["data"]["message"]["type"] == "template"
    assert reply["data"]["message"]["text"].startswith("Bonjour Camille,")
    (sent,) = fake_cloud.sent
    assert sent["body"]["template"]["language"] == {"code": "fr"}
    assert sent["body"]["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Camille"}
    ]
    refused = await command(
        communicator,
        {
            "type": "message.send",
            "id": 3,
            "conversation": stale.pk,
            "template": {"name": "follow_up", "language": "fr", "parameters": []},
        },
    )
    assert refused["ok"] is False and "takes 1 parameter" in refused["error"]
    await communicator.disconnect()


async def test_typing_in_a_closed_window_tells_the_customer_nothing(stale, fake_cloud):
    communicator, _ = await open_dock(stale.agent)
    await communicator.send_json_to({"type": "typing", "conversation": stale.pk})
    await command(communicator, {"type": "templates.list", "id": 4, "conversation": stale.pk})
    assert fake_cloud.reads == []
    stale.last_inbound_at = timezone.now()
    await sync_to_async(stale.save)(update_fields=["last_inbound_at"])
    for _ in range(3):
        await communicator.send_json_to({"type": "typing", "conversation": stale.pk})
    await command(communicator, {"type": "templates.list", "id": 5, "conversation": stale.pk})
    assert fake_cloud.reads == [
        {
            "phone_number_id": stale.channel.phone_number_id,
            "message_id": "wamid.old",
            "typing": True,
        }
    ]
    await communicator.disconnect()
