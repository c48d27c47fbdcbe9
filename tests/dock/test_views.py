"""Who lands on the dock page, and what it is made of before the socket fills it."""

from __future__ import annotations

import pytest

from conversations.models import Role
from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db


def test_signing_in_with_email_and_password_lands_an_agent_on_the_dock(client):
    agent = MembershipFactory()

    response = client.post("/accounts/login/", {"username": agent.user.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/dock/"


def test_a_wrong_password_is_refused_on_the_page(client):
    agent = MembershipFactory()

    response = client.post("/accounts/login/", {"username": agent.user.email, "password": "no"})

    assert response.status_code == 200
    assert b"do not match" in response.content


def test_the_dock_asks_a_visitor_to_sign_in(client):
    response = client.get("/dock/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dock/")


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_get_the_dock_with_its_named_controls(client, role):
    member = MembershipFactory(role=role)
    client.force_login(member.user)

    response = client.get("/dock/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-ws-path="/ws/dock/"' in page
    for name in ("Available", "Busy", "Offline", "Send"):
        assert f">{name}</button>" in page
    assert '<label for="composer-text"' in page


def test_an_admin_who_takes_no_chats_goes_to_the_admin(client):
    admin = MembershipFactory(role=Role.ADMIN)
    client.force_login(admin.user)

    response = client.get("/dock/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
