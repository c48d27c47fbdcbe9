"""Quick replies in the admin: a supervisor keeps their organization's, sees no other's
and can put one under none of another organization's projects."""

from __future__ import annotations

import pytest

from conversations.models import QuickReply, Role
from tests.factories import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/conversations/quickreply/"


@pytest.fixture
def supervisor():
    return MembershipFactory(role=Role.SUPERVISOR, organization__name="Ours")


@pytest.fixture
def theirs():
    project = ProjectFactory(organization__name="Theirs")
    reply = QuickReply.objects.create(
        organization=project.organization, project=project, shortcut="secret", text="Theirs"
    )
    return reply


def test_a_supervisor_adds_a_quick_reply_for_their_organization(client, supervisor):
    project = ProjectFactory(organization=supervisor.organization)
    client.force_login(supervisor.user)

    response = client.post(
        f"{LIST}add/",
        {
            "organization": supervisor.organization_id,
            "project": project.pk,
            "shortcut": "/Thanks",
            "text": "Thank you, {customer.first_name}!",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    reply = QuickReply.objects.get()
    assert (reply.organization, reply.project, reply.shortcut) == (
        supervisor.organization,
        project,
        "thanks",
    )


def test_another_organizations_quick_replies_and_projects_are_not_offered(
    client, supervisor, theirs
):
    client.force_login(supervisor.user)

    listing = client.get(LIST)
    refused = client.post(
        f"{LIST}add/",
        {
            "organization": supervisor.organization_id,
            "project": theirs.project_id,
            "shortcut": "x",
            "text": "y",
        },
    )

    assert listing.status_code == 200
    assert "secret" not in listing.content.decode()
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code in (302, 404)
    assert refused.status_code == 200  # the form again, with the error
    assert QuickReply.objects.count() == 1
