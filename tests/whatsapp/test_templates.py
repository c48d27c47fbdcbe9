"""Message templates: synced from the number's business account, offered when approved,
sent through the outbox as the Cloud API's template payload, and the way to reach a
customer outside the 24-hour window or to write to them first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from channels_whatsapp import templates as whatsapp_templates
from channels_whatsapp.fake_cloud import TEMPLATES
from conversations.models import (
    Conversation,
    ConversationStatus,
    Message,
    MessageStatus,
    MessageTemplate,
    Role,
)
from presence.models import PresenceStatus
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

APPROVED = sorted({(t["name"], t["language"]) for t in TEMPLATES if t["status"] == "APPROVED"})


@pytest.fixture
def channel(db):
    return ChannelFactory(business_account_id="102290129340398")


@pytest.fixture
def admin(channel):
    return MembershipFactory(organization=channel.organization, role=Role.ADMIN, max_open=0)


@pytest.fixture
def supervisor(channel):
    return MembershipFactory(organization=channel.organization, role=Role.SUPERVISOR)


@pytest.fixture
def agent(channel):
    return MembershipFactory(organization=channel.organization, projects=[channel.project])


def api(member) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=member.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def synced(channel, fake_cloud):
    whatsapp_templates.templates_sync(channel=channel)
    return channel


@pytest.fixture
def stale(synced, agent):
    """A chat whose customer last wrote two days ago: the window is closed."""
    return ConversationFactory(
        channel=synced, agent=agent, last_inbound_at=timezone.now() - timedelta(days=2)
    )


# --- sync ---------------------------------------------------------------------------------


def test_a_sync_reads_every_page_and_offers_only_the_approved_templates(
    channel, admin, agent, fake_cloud, monkeypatch
):
    monkeypatch.setattr(whatsapp_templates, "PAGE_SIZE", 2)  # five pages of the fake's nine
    answer = api(admin).post(f"/api/v1/channels/whatsapp/{channel.pk}/templates/sync/")
    assert answer.status_code == 200, answer.content
    assert sorted((t["name"], t["language"]) for t in answer.json()) == APPROVED
    # Kept with their status, pending and rejected included, but never offered.
    assert MessageTemplate.objects.filter(channel=channel).count() == len(TEMPLATES)
    listed = api(agent).get(f"/api/v1/channels/whatsapp/{channel.pk}/templates/")
    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert sorted((t["name"], t["language"]) for t in rows) == APPROVED
    assert {t["status"] for t in rows} == {"APPROVED"}
    follow_up = next(t for t in rows if (t["name"], t["language"]) == ("follow_up", "en"))
    assert follow_up["category"] == "UTILITY"
    assert {"type": "BODY", "text": TEMPLATES[0]["components"][0]["text"]} in (
        follow_up["components"]
    )


def test_a_template_the_platform_no_longer_approves_is_no_longer_offered(synced, fake_cloud):
    fake_cloud.templates = [
        {**t, "status": "PAUSED"} if t["name"] == "renewal_offer" else t
        for t in fake_cloud.templates
        if t["name"] != "service_restored"
    ]
    offered = whatsapp_templates.templates_sync(channel=synced)
    names = {t.name for t in offered}
    assert "renewal_offer" not in names and "service_restored" not in names
    assert not MessageTemplate.objects.filter(channel=synced, name="service_restored").exists()
    assert MessageTemplate.objects.get(channel=synced, name="renewal_offer").status == "PAUSED"


def test_only_an_admin_syncs_and_another_organizations_number_is_not_found(
    channel, agent, fake_cloud
):
    assert (
        api(agent).post(f"/api/v1/channels/whatsapp/{channel.pk}/templates/sync/").status_code
        == 403
    )
    stranger = MembershipFactory(role=Role.ADMIN)
    assert (
        api(stranger).get(f"/api/v1/channels/whatsapp/{channel.pk}/templates/").status_code == 404
    )


def test_a_number_without_business_account_cannot_sync(admin, fake_cloud):
    bare = ChannelFactory(organization=admin.organization)
    answer = api(admin).post(f"/api/v1/channels/whatsapp/{bare.pk}/templates/sync/")
    assert answer.status_code == 409
    assert "business_account_id" in answer.json()


def test_connecting_a_number_with_its_business_account_syncs_its_templates(
    admin, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(admin).post(
            "/api/v1/channels/whatsapp/",
            {
                "project": ChannelFactory(organization=admin.organization).project_id,
                "phone_number_id": "1099887766",
                "business_account_id": "2233445566",
                "access_token": "token",
                "app_secret": "secret",
                "verify_token": "verify",
            },
            format="json",
        )
    assert answer.status_code == 201, answer.content
    assert answer.json()["business_account_id"] == "2233445566"
    channel_id = answer.json()["id"]
    assert MessageTemplate.objects.filter(channel_id=channel_id).approved().count() == len(APPROVED)


# --- sending --------------------------------------------------------------------------------


def test_a_template_sent_through_the_api_reaches_the_cloud_api_with_its_parameters(
    stale, agent, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(agent).post(
            f"/api/v1/conversations/{stale.pk}/messages/",
            {
                "template": {
                    "name": "install_update",
                    "language": "en",
                    "parameters": ["Grace", "Tuesday 10:00"],
                }
            },
            format="json",
        )
    assert answer.status_code == 201, answer.content
    (sent,) = fake_cloud.sent
    assert sent["body"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": stale.contact.wa_id,
        "type": "template",
        "template": {
            "name": "install_update",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Grace"},
                        {"type": "text", "text": "Tuesday 10:00"},
                    ],
                }
            ],
        },
    }
    message = Message.objects.get(pk=answer.json()["id"])
    assert (message.type, message.status, message.wamid) == (
        "template",
        MessageStatus.SENT,
        sent["wamid"],
    )
    assert message.text.startswith("Hi Grace, your fibre installation is booked for Tuesday 10:00.")


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ({"name": "install_update", "language": "en", "parameters": ["Grace"]}, "takes 2"),
        ({"name": "spring_promo", "language": "en", "parameters": ["a", "b"]}, "no approved"),
        ({"name": "install_update", "language": "fr", "parameters": ["a", "b"]}, "no approved"),
        ({"name": "install_update", "language": "en", "parameters": ["Grace", " "]}, "blank"),
    ],
)
def test_a_template_that_cannot_be_sent_is_refused_and_nothing_is_stored(
    stale, agent, fake_cloud, template, why
):
    answer = api(agent).post(
        f"/api/v1/conversations/{stale.pk}/messages/", {"template": template}, format="json"
    )
    assert answer.status_code == 400
    assert why in str(answer.json()["template"])
    assert not Message.objects.filter(conversation=stale).exists()


def test_a_text_outside_the_window_is_refused_with_an_error_that_names_the_window(
    stale, agent, fake_cloud
):
    answer = api(agent).post(
        f"/api/v1/conversations/{stale.pk}/messages/", {"text": "Are you there?"}, format="json"
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "outside_service_window"
    assert "24 hours" in body["detail"] and "customer service window" in body["detail"]
    assert not Message.objects.filter(conversation=stale).exists()
    assert fake_cloud.sent == []


def test_a_text_and_a_template_together_are_refused(stale, agent, fake_cloud):
    answer = api(agent).post(
        f"/api/v1/conversations/{stale.pk}/messages/",
        {"text": "hi", "template": {"name": "follow_up", "language": "en"}},
        format="json",
    )
    assert answer.status_code == 400


# --- starting a conversation ---------------------------------------------------------------


def start(member, channel, **extra):
    body = {
        "channel": channel.pk,
        "wa_id": "447911123456",
        "template": {"name": "follow_up", "language": "es", "parameters": ["Lucía"]},
        **extra,
    }
    return api(member).post("/api/v1/conversations/", body, format="json")


def test_a_supervisor_starts_a_conversation_by_template_with_a_chosen_agent(
    synced, supervisor, agent, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = start(supervisor, synced, agent=agent.pk)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["status"], body["agent"], body["contact"]["wa_id"]) == (
        "assigned",
        agent.pk,
        "447911123456",
    )
    (sent,) = fake_cloud.sent
    assert sent["body"]["to"] == "447911123456"
    assert sent["body"]["template"]["name"] == "follow_up"
    assert sent["body"]["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Lucía"}
    ]
    agent.refresh_from_db()
    assert agent.open_conversations == 1


def test_a_chosen_agent_without_room_leaves_the_conversation_to_routing(
    synced, supervisor, fake_cloud, django_capture_on_commit_callbacks
):
    busy = MembershipFactory(
        organization=synced.organization, presence=PresenceStatus.BUSY, projects=[synced.project]
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = start(supervisor, synced, agent=busy.pk)
    assert answer.status_code == 201, answer.content
    conversation = Conversation.objects.get(pk=answer.json()["id"])
    # Routing gave it to whoever was Available with room: the supervisor, not Busy.
    assert conversation.agent_id != busy.pk
    assert len(fake_cloud.sent) == 1


def test_a_customer_with_an_open_conversation_gets_the_template_in_it(
    stale, supervisor, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answer = start(supervisor, stale.channel, wa_id=stale.contact.wa_id)
    assert answer.status_code == 201
    assert answer.json()["id"] == stale.pk
    assert Conversation.objects.filter(contact=stale.contact).count() == 1


def test_an_agent_cannot_start_a_conversation(synced, agent, fake_cloud):
    assert start(agent, synced).status_code == 403
    assert not Conversation.objects.exists()


def test_a_start_on_another_organizations_number_or_a_bad_template_changes_nothing(
    synced, supervisor, fake_cloud
):
    foreign = ChannelFactory(business_account_id="1")
    assert "channel" in start(supervisor, foreign).json()
    bad = start(supervisor, synced, template={"name": "winback_offer", "language": "en"})
    assert bad.status_code == 400 and "template" in bad.json()
    assert not Conversation.objects.exists()
    assert not Conversation.objects.filter(status=ConversationStatus.QUEUED).exists()


def test_the_cloud_api_refuses_a_template_with_the_wrong_parameters_or_not_approved(
    channel, fake_cloud
):
    from channels_whatsapp import transport
    from conversations.messaging import SendFailure

    def send(name: str, parameters: list[str]) -> int | None:
        try:
            transport.send_template(
                channel=channel,
                wa_id="447911123456",
                user_id=None,
                template={"name": name, "language": "en", "parameters": parameters},
            )
        except SendFailure as failure:
            return failure.code
        return None

    assert send("install_update", ["only one"]) == 132000
    assert send("spring_promo", ["a", "b"]) == 132001
    assert send("install_update", ["Grace", "Tuesday"]) is None
    assert [s["body"]["template"]["name"] for s in fake_cloud.sent] == ["install_update"]


# --- admin ----------------------------------------------------------------------------------


def test_an_admin_syncs_from_the_admin_and_sees_only_their_numbers_templates(
    client, channel, admin, fake_cloud, django_capture_on_commit_callbacks
):
    from tests.factories import PASSWORD

    theirs = ChannelFactory(business_account_id="999")
    whatsapp_templates.templates_sync(channel=theirs)
    MessageTemplate.objects.filter(channel=theirs, name="renewal_offer").update(name="their_secret")
    client.login(username=admin.user.email, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/conversations/channel/",
            {"action": "sync_templates", "_selected_action": [channel.pk]},
        )
    assert response.status_code == 302
    assert MessageTemplate.objects.filter(channel=channel).approved().count() == len(APPROVED)
    page = client.get("/admin/conversations/messagetemplate/").content.decode()
    assert "install_update" in page and "their_secret" not in page
