"""What integrators and the board get from the API beyond who may call it: tokens,
channel URLs, the supervisor's limited member changes with their audit, conversation
actions recorded with their actor, and errors that name what is wrong."""

from __future__ import annotations

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.test import override_settings
from rest_framework.test import APIClient

from conversations.models import (
    Channel,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Message,
    MessageStatus,
    Role,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_member_trades_email_and_password_for_their_token(ours):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"email": ours.agent.user.email.upper(), "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    token = response.json()["token"]
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token}").get("/api/v1/me/").json()
    assert me["id"] == ours.agent.pk
    assert me["org"] == ours.agent.organization_id
    assert me["open_count"] == 1
    assert me["presence"] == "available"


def test_a_wrong_password_gets_no_token(ours):
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": ours.agent.user.email, "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@override_settings(PUBLIC_BASE_URL="https://dock.example.test")
def test_a_connected_number_answers_its_webhook_url_and_never_its_secrets(ours, as_member):
    response = as_member(ours.admin).post(
        "/api/v1/channels/whatsapp/",
        {
            "project": ours.project.pk,
            "phone_number_id": "109876543210",
            "display_phone_number": "+1 555 0100",
            "access_token": "EAAG-very-secret",
            "app_secret": "app-secret-value",
            "verify_token": "verify-token-value",
            "required_skills": ["Billing", "billing "],
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    channel = Channel.objects.get(pk=body["id"])
    assert body["webhook_url"] == f"https://dock.example.test/webhooks/whatsapp/{channel.key}/"
    assert body["required_skills"] == ["billing"]
    for secret in ("EAAG-very-secret", "app-secret-value", "verify-token-value"):
        assert secret not in response.content.decode()
    assert channel.app_secret == "app-secret-value"


def test_a_number_connected_already_is_refused_naming_the_field(ours, others, as_member):
    response = as_member(ours.admin).post(
        "/api/v1/channels/whatsapp/",
        {
            "project": ours.project.pk,
            "phone_number_id": others.channel.phone_number_id,
            "access_token": "t",
            "app_secret": "s",
            "verify_token": "v",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "phone_number_id" in response.json()


def test_a_channel_cannot_be_put_under_another_organizations_project(ours, others, as_member):
    response = as_member(ours.admin).patch(
        f"/api/v1/channels/whatsapp/{ours.channel.pk}/",
        {"project": others.project.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "project" in response.json()


def test_a_supervisor_changes_an_agents_capacity_and_skills_and_it_is_audited(ours, as_member):
    response = as_member(ours.supervisor).patch(
        f"/api/v1/members/{ours.agent.pk}/",
        {"max_open": 6, "skills": ["Retention"]},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["max_open"] == 6
    assert response.json()["skills"] == ["retention"]
    entry = LogEntry.objects.get(object_id=str(ours.agent.pk))
    assert entry.user == ours.supervisor.user
    assert "max_open" in entry.change_message


def test_a_supervisor_may_not_change_a_members_role(ours, as_member):
    response = as_member(ours.supervisor).patch(
        f"/api/v1/members/{ours.supervisor.pk}/", {"role": "admin"}, format="json"
    )

    assert response.status_code == 403
    assert "role" in response.json()["detail"]
    ours.supervisor.refresh_from_db()
    assert ours.supervisor.role == Role.SUPERVISOR


def test_an_admin_adds_a_member_who_can_then_sign_in(ours, as_member):
    response = as_member(ours.admin).post(
        "/api/v1/members/",
        {
            "email": "nina@example.test",
            "password": "a long password",
            "role": "agent",
            "max_open": 4,
            "skills": ["billing"],
            "languages": ["es", "en"],
            "projects": [ours.project.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["projects"] == [ours.project.pk]
    assert APIClient().login(username="nina@example.test", password="a long password")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-address", "password": "a long password"}, "email"),
        ({"email": "x@example.test", "password": "short"}, "password"),
        ({"email": "x@example.test", "password": "a long password", "role": "boss"}, "role"),
        ({"email": "x@example.test", "password": "a long password", "max_open": -1}, "max_open"),
        (
            {"email": "x@example.test", "password": "a long password", "projects": [10**20]},
            "projects",
        ),
    ],
)
def test_a_bad_member_is_refused_naming_the_field(ours, as_member, body, field):
    response = as_member(ours.admin).post("/api/v1/members/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()


def test_an_email_in_use_is_refused_naming_the_field(ours, others, as_member):
    response = as_member(ours.admin).post(
        "/api/v1/members/",
        {"email": others.agent.user.email, "password": "a long password"},
        format="json",
    )

    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=open", "status"),
        ("agent=ana", "agent"),
        ("project=99999999999999999999999", "project"),
        ("page=zero", "page"),
        ("page=99", "page"),
        ("page_size=0", "page_size"),
    ],
)
def test_bad_filters_are_refused_naming_them(ours, as_member, query, field):
    response = as_member(ours.supervisor).get(f"/api/v1/conversations/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_filters_narrow_the_conversations(ours, as_member):
    client = as_member(ours.supervisor)

    queued = client.get("/api/v1/conversations/?status=queued").json()["results"]
    by_agent = client.get(f"/api/v1/conversations/?agent={ours.colleague.pk}").json()["results"]

    assert [c["id"] for c in queued] == [ours.queued.pk]
    assert [c["id"] for c in by_agent] == [ours.theirs.pk]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/projects/abc/"),
        ("get", "/api/v1/conversations/99999999999999999999999/"),
        ("post", "/api/v1/nowhere/"),
        ("patch", "/api/v1/conversations/%C3%A5z%0A/"),
    ],
)
def test_unknown_paths_and_ids_are_json_404s(ours, as_member, method, path):
    response = getattr(as_member(ours.admin), method)(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_method_the_path_does_not_take_is_a_json_405(ours, as_member):
    response = as_member(ours.admin).delete(f"/api/v1/projects/{ours.project.pk}/")

    assert response.status_code == 405
    assert "detail" in response.json()


def test_a_body_that_is_not_json_is_a_json_400(ours, as_member):
    response = as_member(ours.admin).generic(
        "POST", "/api/v1/projects/", "{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert "detail" in response.json()


def test_null_characters_in_metadata_are_refused_not_a_server_error(ours, as_member):
    response = as_member(ours.admin).post(
        "/api/v1/projects/",
        data=json.dumps({"name": "Nul", "metadata": {"a": "x\u0000y"}}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "$.metadata.a holds a NUL character" in response.json()["detail"]


def test_a_supervisor_reassigns_a_chat_and_the_event_names_them(ours, as_member):
    response = as_member(ours.supervisor).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": ours.colleague.pk, "note": "Ana is swamped"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["agent"] == ours.colleague.pk
    event = ConversationEvent.objects.filter(conversation=ours.mine).last()
    assert event.actor == ours.supervisor
    assert (event.from_agent, event.to_agent) == (ours.agent, ours.colleague)


def test_a_supervisor_returns_a_chat_to_the_queue(ours, as_member):
    ours.colleague.max_open = 0
    ours.colleague.save()
    ours.supervisor.max_open = 0
    ours.supervisor.save()

    response = as_member(ours.supervisor).post(
        f"/api/v1/conversations/{ours.theirs.pk}/transfer/", {}, format="json"
    )

    assert response.status_code == 200, response.content
    event = ConversationEvent.objects.filter(conversation=ours.theirs).last()
    assert event.actor == ours.supervisor


def test_transferring_to_an_agent_of_another_organization_names_the_field(ours, others, as_member):
    response = as_member(ours.supervisor).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": others.agent.pk},
        format="json",
    )

    assert response.status_code == 400
    assert "agent" in response.json()


def test_closing_a_closed_chat_is_a_conflict(ours, as_member):
    client = as_member(ours.agent)
    url = f"/api/v1/conversations/{ours.mine.pk}/close/"

    assert client.post(url, {"outcome": "sold"}, format="json").status_code == 200
    response = client.post(url, {"outcome": "sold"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"]
    ours.mine.refresh_from_db()
    assert ours.mine.status == ConversationStatus.CLOSED
    assert (
        ConversationEvent.objects.filter(conversation=ours.mine, kind=EventKind.CLOSED).count() == 1
    )


def test_sending_a_text_queues_it(ours, as_member):
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/messages/", {"text": "On it!"}, format="json"
    )

    assert response.status_code == 201
    message = Message.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == MessageStatus.QUEUED
    assert (message.text, message.sender) == ("On it!", ours.agent)


def test_a_text_outside_the_service_window_is_a_conflict(ours, as_member):
    from datetime import timedelta

    from django.utils import timezone

    ours.mine.last_inbound_at = timezone.now() - timedelta(hours=25)
    ours.mine.save()

    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/messages/", {"text": "Hello?"}, format="json"
    )

    assert response.status_code == 409
    assert "24 hours" in response.json()["detail"]


def test_presence_set_through_the_api_is_kept_as_set(ours, as_member):
    response = as_member(ours.agent).put("/api/v1/me/presence/", {"status": "busy"}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "busy"
    ours.agent.presence.refresh_from_db()
    assert ours.agent.presence.source == "api"
    assert not ours.agent.presence.dock_managed


def test_the_supervision_queue_says_how_long_each_chat_has_waited(ours, as_member):
    results = as_member(ours.supervisor).get("/api/v1/supervision/queue/").json()["results"]

    assert [r["id"] for r in results] == [ours.queued.pk]
    assert results[0]["waiting_seconds"] >= 0
    assert results[0]["project_name"] == ours.project.name


def test_the_docs_are_served_without_a_cdn(client):
    page = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/" in page
    assert "cdn" not in page.lower()
