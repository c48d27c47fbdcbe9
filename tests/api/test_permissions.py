"""The permission matrix: every endpoint, for each role, on its own organization's
objects and on another's. Another organization's object is always 404, whoever asks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.api.conftest import Org

ROLES = ("agent", "supervisor", "admin")
Body = Callable[[Org], dict[str, Any]] | None


def channel_body(org: Org) -> dict[str, Any]:
    return {
        "project": org.project.pk,
        "phone_number_id": "1234567890",
        "access_token": "token",
        "app_secret": "secret",
        "verify_token": "verify",
    }


# (method, path with {placeholders} filled from an Org, body, expected per role)
COLLECTIONS: list[tuple[str, str, Body, dict[str, int]]] = [
    ("get", "me/", None, {"agent": 200, "supervisor": 200, "admin": 200}),
    (
        "put",
        "me/presence/",
        lambda o: {"status": "busy"},
        {"agent": 200, "supervisor": 200, "admin": 403},
    ),
    ("get", "projects/", None, {"agent": 200, "supervisor": 200, "admin": 200}),
    (
        "post",
        "projects/",
        lambda o: {"name": "Autumn"},
        {"agent": 403, "supervisor": 403, "admin": 201},
    ),
    ("get", "channels/whatsapp/", None, {"agent": 403, "supervisor": 403, "admin": 200}),
    ("post", "channels/whatsapp/", channel_body, {"agent": 403, "supervisor": 403, "admin": 201}),
    ("get", "members/", None, {"agent": 403, "supervisor": 200, "admin": 200}),
    (
        "post",
        "members/",
        lambda o: {"email": "new@example.test", "password": "long enough secret"},
        {"agent": 403, "supervisor": 403, "admin": 201},
    ),
    ("get", "conversations/", None, {"agent": 200, "supervisor": 200, "admin": 200}),
    ("get", "supervision/agents/", None, {"agent": 403, "supervisor": 200, "admin": 200}),
    ("get", "supervision/queue/", None, {"agent": 403, "supervisor": 200, "admin": 200}),
]

OBJECTS: list[tuple[str, str, Body, dict[str, int]]] = [
    ("get", "projects/{project}/", None, {"agent": 200, "supervisor": 200, "admin": 200}),
    (
        "patch",
        "projects/{project}/",
        lambda o: {"metadata": {"offer": "free shipping"}},
        {"agent": 403, "supervisor": 403, "admin": 200},
    ),
    ("get", "channels/whatsapp/{channel}/", None, {"agent": 403, "supervisor": 403, "admin": 200}),
    (
        "patch",
        "channels/whatsapp/{channel}/",
        lambda o: {"default_language": "es"},
        {"agent": 403, "supervisor": 403, "admin": 200},
    ),
    ("get", "members/{colleague}/", None, {"agent": 403, "supervisor": 200, "admin": 200}),
    (
        "patch",
        "members/{colleague}/",
        lambda o: {"max_open": 5},
        {"agent": 403, "supervisor": 200, "admin": 200},
    ),
    ("get", "conversations/{mine}/", None, {"agent": 200, "supervisor": 200, "admin": 200}),
    # A colleague's chat is not the agent's to see: not found, like a foreign one.
    ("get", "conversations/{theirs}/", None, {"agent": 404, "supervisor": 200, "admin": 200}),
    (
        "patch",
        "conversations/{mine}/",
        lambda o: {"priority": 5},
        {"agent": 200, "supervisor": 200, "admin": 200},
    ),
    (
        "get",
        "conversations/{mine}/messages/",
        None,
        {"agent": 200, "supervisor": 200, "admin": 200},
    ),
    (
        "post",
        "conversations/{mine}/messages/",
        lambda o: {"text": "Hi, how can I help?"},
        {"agent": 201, "supervisor": 201, "admin": 201},
    ),
    (
        "post",
        "conversations/{mine}/close/",
        lambda o: {"outcome": "solved"},
        {"agent": 200, "supervisor": 200, "admin": 200},
    ),
    (
        "post",
        "conversations/{theirs}/close/",
        lambda o: {"outcome": "solved"},
        {"agent": 404, "supervisor": 200, "admin": 200},
    ),
    (
        "post",
        "conversations/{mine}/transfer/",
        lambda o: {"note": "back to the team"},
        {"agent": 200, "supervisor": 200, "admin": 200},
    ),
    (
        "post",
        "conversations/{mine}/transfer/",
        lambda o: {"agent": o.colleague.pk},
        {"agent": 200, "supervisor": 200, "admin": 200},
    ),
]


def fill(path: str, org: Org) -> str:
    return "/api/v1/" + path.format(
        project=org.project.pk,
        channel=org.channel.pk,
        colleague=org.colleague.pk,
        mine=org.mine.pk,
        theirs=org.theirs.pk,
    )


def call(client, method: str, path: str, body: dict[str, Any] | None):
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, body, format="json")


def _id(row: tuple[str, str, Body, dict[str, int]]) -> str:
    return f"{row[0].upper()} {row[1]}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", COLLECTIONS, ids=[_id(r) for r in COLLECTIONS])
def test_collections_answer_each_role_as_the_matrix_says(row, role, ours, others, as_member):
    method, path, body, expected = row
    response = call(as_member(ours.member(role)), method, fill(path, ours), body and body(ours))

    assert response.status_code == expected[role], response.content
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", OBJECTS, ids=[_id(r) for r in OBJECTS])
def test_own_objects_answer_each_role_as_the_matrix_says(row, role, ours, others, as_member):
    method, path, body, expected = row
    response = call(as_member(ours.member(role)), method, fill(path, ours), body and body(ours))

    assert response.status_code == expected[role], response.content
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", OBJECTS, ids=[_id(r) for r in OBJECTS])
def test_another_organizations_objects_are_not_found_for_every_role(
    row, role, ours, others, as_member
):
    method, path, body, _ = row
    # The body names our own objects, so only the path points across organizations.
    response = call(as_member(ours.member(role)), method, fill(path, others), body and body(ours))

    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Not found."}


LISTS = [
    "projects/",
    "channels/whatsapp/",
    "members/",
    "conversations/",
    "supervision/agents/",
    "supervision/queue/",
    "conversations/{mine}/messages/",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", LISTS)
def test_no_list_shows_anything_of_another_organization(path, role, ours, others, as_member):
    response = as_member(ours.member(role)).get(fill(path, ours))
    if response.status_code == 403:
        return  # this role has no such list
    body = response.content.decode()

    assert response.status_code == 200
    assert "results" in response.json()
    assert "next" in response.json()
    for foreign in (others.project.name, others.admin.user.email, others.agent.user.email):
        assert foreign not in body
    assert others.channel.phone_number_id not in body
    assert others.mine.contact.wa_id not in body


def test_an_agent_lists_only_their_own_conversations(ours, others, as_member):
    results = as_member(ours.agent).get("/api/v1/conversations/").json()["results"]

    assert [c["id"] for c in results] == [ours.mine.pk]


def test_a_supervisor_lists_every_conversation_of_their_organization(ours, others, as_member):
    results = as_member(ours.supervisor).get("/api/v1/conversations/").json()["results"]

    assert {c["id"] for c in results} == {ours.mine.pk, ours.theirs.pk, ours.queued.pk}


def test_anonymous_callers_are_asked_for_credentials(client, ours):
    response = client.get("/api/v1/me/")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_user_without_membership_is_refused_with_a_json_error(ours):
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    superuser = UserFactory(is_superuser=True, is_staff=True)
    client = APIClient()
    client.force_authenticate(superuser)

    for path in ("/api/v1/me/", "/api/v1/projects/", f"/api/v1/projects/{ours.project.pk}/"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["detail"]


def test_an_agent_may_not_close_a_colleagues_chat_they_can_see_after_a_transfer(ours, as_member):
    # Closed chats keep their agent, so the agent still sees their old chat but a
    # colleague's stays invisible: the role check never reveals another's chat.
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.theirs.pk}/close/", {"outcome": "x"}, format="json"
    )

    assert response.status_code == 404
