"""Django admin shows a staff member only their own organization."""

from __future__ import annotations

import pytest

from conversations.models import Role
from tests.factories import PASSWORD, ConversationFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_an_admin_sees_only_their_organizations_projects(client):
    admin = MembershipFactory(role=Role.ADMIN)
    ProjectFactory(organization=admin.organization, name="Our spring campaign")
    ProjectFactory(name="Their secret campaign")
    client.login(username=admin.user.email, password=PASSWORD)

    page = client.get("/admin/conversations/project/").content.decode()

    assert "Our spring campaign" in page
    assert "Their secret campaign" not in page


def test_another_organizations_conversation_is_not_found_in_admin(client):
    supervisor = MembershipFactory(role=Role.SUPERVISOR)
    theirs = ConversationFactory()
    client.login(username=supervisor.user.email, password=PASSWORD)

    response = client.get(f"/admin/conversations/conversation/{theirs.pk}/change/")

    assert response.status_code in (302, 404)
    assert client.get("/admin/conversations/conversation/").status_code == 200


def test_an_agent_has_no_admin(client):
    agent = MembershipFactory(role=Role.AGENT)
    agent.user.is_staff = True
    agent.user.save()
    client.login(username=agent.user.email, password=PASSWORD)

    assert client.get("/admin/conversations/project/").status_code == 403
