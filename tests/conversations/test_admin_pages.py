"""What the admin's pages tell an organization's admin, and what they keep from being
changed by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from django.test import override_settings
from django.utils import timezone

from conversations.models import Channel, Membership, Role
from presence.models import PresenceChange, PresenceStatus
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> Membership:
    return cast(Membership, MembershipFactory(role=Role.ADMIN, max_open=0))


@override_settings(PUBLIC_BASE_URL="https://dock.example.test")
def test_a_channel_page_shows_the_webhook_url_and_whether_the_verify_token_is_set(client, admin):
    channel = ChannelFactory(organization=admin.organization, verify_token="s3cret-phrase")
    client.force_login(admin.user)

    page = client.get(f"/admin/conversations/channel/{channel.pk}/change/").content.decode()

    assert f"https://dock.example.test/webhooks/whatsapp/{channel.key}/" in page
    assert "s3cret-phrase" not in page
    assert '<div class="readonly">set<div class="help">' in page
    Channel.objects.filter(pk=channel.pk).update(verify_token="")
    page = client.get(f"/admin/conversations/channel/{channel.pk}/change/").content.decode()
    assert '<div class="readonly">not set<div class="help">' in page


def test_a_channel_saved_with_its_secrets_left_empty_keeps_them(client, admin):
    channel = ChannelFactory(organization=admin.organization, verify_token="keep-me")
    client.force_login(admin.user)

    response = client.post(
        f"/admin/conversations/channel/{channel.pk}/change/",
        {
            "organization": admin.organization_id,
            "project": channel.project_id,
            "kind": "whatsapp",
            "phone_number_id": channel.phone_number_id,
            "display_phone_number": "+1 555 0199",
            "default_language": "en",
            "required_skills": "Billing, vip",
            "created_at_0": "2001-01-01",
            "created_at_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content.decode()
    saved = Channel.objects.get(pk=channel.pk)
    assert saved.verify_token == "keep-me"
    assert saved.access_token == channel.access_token
    assert saved.required_skills == ["billing", "vip"]
    assert saved.created_at == channel.created_at  # read-only: the posted date is ignored


def test_every_field_of_the_set_up_pages_says_what_it_is_for(client, admin):
    channel = ChannelFactory(organization=admin.organization)
    client.force_login(admin.user)

    for path in (
        f"/admin/conversations/channel/{channel.pk}/change/",
        f"/admin/conversations/project/{channel.project_id}/change/",
        f"/admin/conversations/membership/{admin.pk}/change/",
    ):
        page = client.get(path).content.decode()
        fields = page.count('<div class="form-row field-')
        helps = page.count('class="help"')
        assert fields and helps >= fields, path


def test_a_project_lists_its_channels_and_a_member_their_presence_history(client, admin):
    project = ProjectFactory(organization=admin.organization)
    ChannelFactory(
        organization=admin.organization, project=project, display_phone_number="+1 555 0123"
    )
    agent = MembershipFactory(organization=admin.organization)
    now = timezone.now()
    for minutes, status in ((30, PresenceStatus.AVAILABLE), (10, PresenceStatus.BUSY)):
        PresenceChange.objects.create(
            membership=agent,
            status=status,
            previous=PresenceStatus.OFFLINE,
            source="dock",
            at=now - timedelta(minutes=minutes),
        )
    client.force_login(admin.user)

    project_page = client.get(f"/admin/conversations/project/{project.pk}/change/").content.decode()
    member_page = client.get(f"/admin/conversations/membership/{agent.pk}/change/").content.decode()

    assert "+1 555 0123" in project_page
    assert "presence history" in member_page.lower()
    assert member_page.index(">Busy<") < member_page.index(">Available<")  # newest first


def test_a_supervisor_reads_a_conversations_messages_in_the_admin(client):
    supervisor = MembershipFactory(role=Role.SUPERVISOR)
    chat = ConversationFactory(channel=ChannelFactory(organization=supervisor.organization))
    MessageFactory(conversation=chat, text="Is my renewal discount still valid?")
    client.force_login(supervisor.user)

    page = client.get(f"/admin/conversations/conversation/{chat.pk}/change/").content.decode()

    assert "Is my renewal discount still valid?" in page


def test_without_scripts_metadata_is_written_as_key_value_lines(client, admin):
    project = ProjectFactory(organization=admin.organization, metadata={})
    client.force_login(admin.user)

    response = client.post(
        f"/admin/conversations/project/{project.pk}/change/",
        {
            "organization": admin.organization_id,
            "name": project.name,
            "metadata": "offer: 12 months at 20% off\ncampaign: Renewal wave",
            "offer_timeout_seconds": 0,
        },
    )

    assert response.status_code == 302, response.content.decode()
    project.refresh_from_db()
    assert project.metadata == {"offer": "12 months at 20% off", "campaign": "Renewal wave"}


def test_metadata_breaking_the_apis_rule_is_refused_saying_why(client, admin):
    project = ProjectFactory(organization=admin.organization, metadata={"offer": "20% off"})
    client.force_login(admin.user)

    response = client.post(
        f"/admin/conversations/project/{project.pk}/change/",
        {
            "organization": admin.organization_id,
            "name": project.name,
            "metadata": '{"a": ' * 17 + "1" + "}" * 17,
            "offer_timeout_seconds": 0,
        },
    )

    assert response.status_code == 200
    assert "JSON nested deeper than 16 levels" in response.content.decode()
    project.refresh_from_db()
    assert project.metadata == {"offer": "20% off"}
