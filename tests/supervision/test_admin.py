"""The Django admin for supervisors and admins: their organization only, useful filters,
and no way for a supervisor to raise anyone's role."""

from __future__ import annotations

import re

import pytest

from conversations.models import Role
from tests.factories import PASSWORD, ConversationFactory

pytestmark = pytest.mark.django_db


def signed_in(client, member):
    client.login(username=member.user.email, password=PASSWORD)
    return client


def test_list_filters_offer_only_the_organizations_own_projects_and_agents(client, ours, others):
    page = (
        signed_in(client, ours.supervisor)
        .get("/admin/conversations/conversation/")
        .content.decode()
    )

    assert ours.project.name in page
    assert ours.agent.user.email in page
    assert others.project.name not in page
    assert others.agent.user.email not in page


def test_conversations_are_found_by_the_customers_name(client, ours):
    ConversationFactory(channel=ours.channel, contact__name="Zelda Quartz")

    page = (
        signed_in(client, ours.supervisor)
        .get("/admin/conversations/conversation/?q=Zelda")
        .content.decode()
    )

    assert "Zelda Quartz" in page
    assert ours.mine.contact.name not in page


def test_a_conversation_is_read_only_in_the_admin(client, ours):
    response = signed_in(client, ours.admin).post(
        f"/admin/conversations/conversation/{ours.mine.pk}/change/", {"priority": 9}
    )

    ours.mine.refresh_from_db()
    assert response.status_code == 403
    assert ours.mine.priority == 0


def test_a_supervisor_changes_capacity_in_the_admin_but_not_roles(client, ours):
    signed_in(client, ours.supervisor)
    page = client.get(f"/admin/conversations/membership/{ours.agent.pk}/change/").content.decode()

    assert 'name="max_open"' in page
    assert 'name="role"' not in page

    response = client.post(
        f"/admin/conversations/membership/{ours.agent.pk}/change/",
        {
            "max_open": 7,
            "skills": '["billing"]',
            "languages": '["en"]',
            "projects": [ours.project.pk],
            "role": Role.ADMIN,
        },
    )

    assert response.status_code == 302, re.findall(r"errorlist.{0,200}", response.content.decode())
    ours.agent.refresh_from_db()
    assert ours.agent.max_open == 7
    assert ours.agent.role == Role.AGENT


def test_a_supervisor_reads_but_does_not_change_channels_and_projects(client, ours):
    signed_in(client, ours.supervisor)

    assert client.get("/admin/conversations/channel/").status_code == 200
    response = client.post(
        f"/admin/conversations/channel/{ours.channel.pk}/change/",
        {"project": ours.project.pk, "phone_number_id": "1", "verify_token": "mine"},
    )

    assert response.status_code == 403
    ours.channel.refresh_from_db()
    assert ours.channel.verify_token == "verify-me"


def test_an_admin_keeps_the_busy_reasons_of_their_organization_only(client, ours, others):
    from presence.models import BusyReason

    BusyReason.objects.create(organization=ours.agent.organization, name="Coaching")
    BusyReason.objects.create(organization=others.agent.organization, name="Siesta")

    page = signed_in(client, ours.admin).get("/admin/presence/busyreason/").content.decode()
    assert "Coaching" in page
    assert "Siesta" not in page

    signed_in(client, ours.supervisor)
    assert client.get("/admin/presence/busyreason/").status_code == 200
    response = client.post(
        "/admin/presence/busyreason/add/",
        {"organization": ours.agent.organization_id, "name": "Nap", "position": 0},
    )
    assert response.status_code == 403
    assert not BusyReason.objects.filter(name="Nap").exists()
