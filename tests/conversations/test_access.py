"""Who may still sign in: deactivating a member or setting their password goes through one
write path (``user_access_update``) from the API, the admin and the password pages, and
ends their tokens and sessions; a deactivated agent turns Offline and their open chats go
back to routing as an agent's who left."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Session
from conversations import services
from conversations.models import ConversationStatus, Role
from presence.models import AgentPresence, PresenceStatus
from routing import router
from tests.factories import PASSWORD, ConversationFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-and-longer-passphrase-42"


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(member) -> Client:
    client = Client()
    client.force_login(member.user)
    return client


def still_signed_in(client: Client) -> bool:
    return client.get("/api/v1/me/").status_code == 200


def test_deactivating_through_the_api_ends_the_members_tokens_and_sessions():
    admin = MembershipFactory(role=Role.ADMIN, max_open=0)
    agent = MembershipFactory(organization=admin.organization)
    token = Token.objects.create(user=agent.user)
    browser = signed_in(agent)
    colleague_browser = signed_in(MembershipFactory(organization=admin.organization))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin.user).key}")

    response = api.patch(f"/api/v1/members/{agent.pk}/", {"active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert not Token.objects.filter(pk=token.pk).exists()
    assert not Session.objects.filter(user=agent.user).exists()
    assert not still_signed_in(browser)
    assert still_signed_in(colleague_browser)
    agent.user.refresh_from_db()
    assert agent.user.is_active is False
    assert api.get(f"/api/v1/members/{agent.pk}/").json()["active"] is False


def test_a_supervisor_may_not_deactivate_a_member():
    supervisor = MembershipFactory(role=Role.SUPERVISOR)
    agent = MembershipFactory(organization=supervisor.organization)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=supervisor.user).key}")

    response = api.patch(f"/api/v1/members/{agent.pk}/", {"active": False}, format="json")

    assert response.status_code == 403
    agent.user.refresh_from_db()
    assert agent.user.is_active is True


def test_a_deactivated_agent_goes_offline_and_their_chats_go_back_to_routing(settings):
    agent = MembershipFactory()
    chat = ConversationFactory(channel__organization=agent.organization, agent=agent)

    services.member_update(member=agent, active=False)

    presence = AgentPresence.objects.get(membership=agent)
    assert presence.status == PresenceStatus.OFFLINE
    # As for an agent who left: once Offline for the reassign delay, their chats move.
    settings.ROUTING_OFFLINE_REASSIGN_SECONDS = 0
    router.reassign_offline()
    chat.refresh_from_db()
    assert chat.agent_id is None
    assert chat.status == ConversationStatus.QUEUED


def test_a_new_password_set_by_an_admin_ends_the_old_token_and_sessions():
    agent = MembershipFactory()
    token = Token.objects.create(user=agent.user)
    browser = signed_in(agent)

    services.member_update(member=agent, password=NEW_PASSWORD)

    assert not Token.objects.filter(pk=token.pk).exists()
    assert not still_signed_in(browser)
    assert AgentPresence.objects.get(membership=agent).status == PresenceStatus.AVAILABLE


def test_an_admin_deactivating_a_user_in_the_admin_ends_their_access():
    admin = MembershipFactory(role=Role.ADMIN, max_open=0)
    agent = MembershipFactory(organization=admin.organization)
    token = Token.objects.create(user=agent.user)
    browser = signed_in(agent)
    admin_browser = signed_in(admin)
    user = agent.user

    response = admin_browser.post(
        f"/admin/conversations/user/{user.pk}/change/",
        {"email": user.email, "name": user.name, "is_staff": "", "is_active": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_active is False
    assert not Token.objects.filter(pk=token.pk).exists()
    assert not still_signed_in(browser)
    assert AgentPresence.objects.get(membership=agent).status == PresenceStatus.OFFLINE
    assert still_signed_in(admin_browser)


@pytest.mark.parametrize("path", ["/admin/password_change/", "/accounts/password_change/"])
def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(path):
    admin = MembershipFactory(role=Role.ADMIN, max_open=0)
    token = Token.objects.create(user=admin.user)
    here = signed_in(admin)
    elsewhere = signed_in(admin)

    response = here.post(
        path,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not Token.objects.filter(pk=token.pk).exists()
    assert here.get("/admin/").status_code == 200
    assert Session.objects.filter(user=admin.user).count() == 1
    assert elsewhere.get("/admin/").status_code == 302


def test_an_admin_setting_their_own_password_in_the_api_stays_signed_in_there():
    admin = MembershipFactory(role=Role.ADMIN, max_open=0)
    token = Token.objects.create(user=admin.user)
    here = signed_in(admin)
    elsewhere = signed_in(admin)

    response = here.patch(
        f"/api/v1/members/{admin.pk}/",
        {"password": NEW_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert still_signed_in(here)
    assert not still_signed_in(elsewhere)
    assert not Token.objects.filter(pk=token.pk).exists()
