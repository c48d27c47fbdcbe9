"""Named integration tokens: an admin makes one, sees when it was last used, revokes it;
it belongs to the organization and acts with its maker's admin rights."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from api import tokens
from api.models import IntegrationToken
from conversations import services
from conversations.models import Role


def client_with(key, scheme="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def test_an_integration_token_acts_as_its_admin_and_shows_when_it_was_last_used(ours):
    token, key = tokens.integration_token_create(created_by=ours.admin, name="CRM sync")
    assert key.startswith("cxgi_") and token.key_hash != key
    assert token.last_used_at is None
    answer = client_with(key).get("/api/v1/members/")
    assert answer.status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    client_with(key).get("/api/v1/members/")
    token.refresh_from_db()
    assert token.last_used_at == first_use, "written at most once a minute"
    IntegrationToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    client_with(key).get("/api/v1/members/")
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_a_revoked_token_gets_401_from_the_next_request(ours):
    token, key = tokens.integration_token_create(created_by=ours.admin, name="BI export")
    assert client_with(key).get("/api/v1/me/").status_code == 200
    tokens.integration_token_revoke(token=token)
    assert client_with(key).get("/api/v1/me/").status_code == 401


def test_bearer_is_not_accepted(ours):
    _, key = tokens.integration_token_create(created_by=ours.admin, name="CRM sync")
    assert client_with(key, scheme="Bearer").get("/api/v1/me/").status_code == 401


def test_the_token_survives_its_makers_new_password_but_not_their_deactivation(ours):
    _, key = tokens.integration_token_create(created_by=ours.admin, name="CRM sync")
    services.user_access_update(user=ours.admin.user, password="a-new-long-passphrase-42")
    assert client_with(key).get("/api/v1/me/").status_code == 200
    services.user_access_update(user=ours.admin.user, active=False)
    assert client_with(key).get("/api/v1/me/").status_code == 401


def test_a_maker_who_is_no_longer_admin_ends_their_tokens(ours):
    _, key = tokens.integration_token_create(created_by=ours.admin, name="CRM sync")
    ours.admin.role = Role.SUPERVISOR
    ours.admin.save()
    assert client_with(key).get("/api/v1/me/").status_code == 401


def test_an_admin_makes_a_token_in_the_admin_sees_its_key_once_and_revokes_it(ours, client):
    ours.admin.user.is_staff = True
    ours.admin.user.save()
    client.force_login(ours.admin.user)
    made = client.post("/admin/api/integrationtoken/add/", {"name": "Warehouse"}, follow=True)
    assert made.status_code == 200
    shown = [str(m) for m in made.context["messages"]]
    key = shown[0].split("shown this once: ")[1].split(" ")[0]
    assert client_with(key).get("/api/v1/me/").status_code == 200
    token = IntegrationToken.objects.get(name="Warehouse")
    assert token.organization_id == ours.admin.organization_id
    listing = client.get("/admin/api/integrationtoken/")
    assert b"Warehouse" in listing.content and key.encode() not in listing.content
    client.post(
        "/admin/api/integrationtoken/",
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert client_with(key).get("/api/v1/me/").status_code == 401


def test_another_organizations_admin_does_not_see_the_token(ours, others, client):
    tokens.integration_token_create(created_by=ours.admin, name="Ours only")
    others.admin.user.is_staff = True
    others.admin.user.save()
    client.force_login(others.admin.user)
    assert b"Ours only" not in client.get("/admin/api/integrationtoken/").content
