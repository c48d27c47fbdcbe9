"""Every operation that takes a JSON body, as the OpenAPI schema lists them, refuses a
body nested without end or carrying a string no database stores: a 4xx with a JSON error
that names the problem, and nothing stored. The operations come from ``/api/schema/``,
so one added later is covered without touching this file."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.apps import apps
from django.test import Client

from conversations.models import Project, QuickReply
from tests.api.conftest import build_org, token_client
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(Client().get("/api/schema/?format=json").content)
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in SCHEMA["paths"].items()
    for method, operation in methods.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
]
# What a JSON body parser should never have to descend into.
NESTED_5000 = b"[" * 5000 + b"]" * 5000


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def shaped(schema: dict[str, Any], bad: str) -> Any:
    """A body of the operation's documented shape whose every string carries ``bad``:
    each property (optional ones too), one item per array, a free JSON field as an
    object with a string."""
    schema = _resolve(schema)
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            return shaped(schema[combined][0], bad)
    if "enum" in schema:
        return f"{schema['enum'][0]}{bad}"
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            name: shaped(prop, bad)
            for name, prop in schema.get("properties", {}).items()
            if not _resolve(prop).get("readOnly")
        }
    if kind == "array":
        return [shaped(schema.get("items", {}), bad)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "string":
        return {"email": f"ana{bad}@example.com"}.get(schema.get("format", ""), f"text{bad}")
    return {"campaign": f"spring{bad}"}  # free JSON


def rows() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


@pytest.fixture
def callers(ours):
    """The organization's admin and the agent of its chat ``mine``: between them, every
    operation reaches the point where it reads its body."""
    real_ids = {
        "projects": ours.project.pk,
        "channels": ours.channel.pk,
        "members": ours.agent.pk,
        "conversations": ours.mine.pk,
        "quick-replies": QuickReply.objects.create(
            organization=ours.project.organization, shortcut="hello", text="Hello!"
        ).pk,
        "webhooks": subscription_create(
            organization=ours.admin.organization,
            url="https://receiver.example.test/events",
            events=["message.created"],
            secret="a-long-shared-secret-0123456789",
        ).pk,
    }
    return [token_client(ours.admin), token_client(ours.agent)], real_ids


def send(callers, method: str, path: str, body: bytes) -> list[Any]:
    clients, real_ids = callers
    url = path.replace("{id}", str(real_ids.get(path.split("/")[3])))
    return [
        client.generic(method, url, body, content_type="application/json") for client in clients
    ]


def assert_refused(responses: list[Any], problem: str) -> None:
    for response in responses:
        assert 400 <= response.status_code < 500, response.content
        assert response["Content-Type"] == "application/json"
    named = [r.json() for r in responses if r.status_code == 400]
    assert named, "no caller got as far as the body"
    assert all(problem in json.dumps(error) for error in named), named


def test_the_schema_lists_the_operations_that_take_a_body():
    listed = {(method, path) for method, path, _ in OPERATIONS}
    assert {("POST", "/api/v1/auth/token/"), ("POST", "/api/v1/projects/")} <= listed
    assert ("POST", "/api/v1/conversations/{id}/messages/") in listed


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=lambda v: str(v))
def test_a_body_nested_5000_deep_is_refused(callers, method, path, operation):
    before = rows()
    assert_refused(send(callers, method, path, NESTED_5000), "nested deeper than 32 levels")
    assert rows() == before


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=lambda v: str(v))
@pytest.mark.parametrize(
    ("bad", "problem"), [("\ud800", "lone UTF-16 surrogate"), ("\x00", "NUL character")]
)
def test_a_string_no_database_stores_is_refused_in_every_field(
    callers, method, path, operation, bad, problem
):
    body = shaped(operation["requestBody"]["content"]["application/json"]["schema"], bad)
    before = rows()
    assert_refused(send(callers, method, path, json.dumps(body).encode()), problem)
    assert rows() == before


# --- project metadata: free JSON, bounded like any body ---------------------------------


def nested(depth: int) -> str:
    return '{"level": ' * depth + '"bottom"' + "}" * depth


def test_project_metadata_nested_900_deep_is_refused(ours):
    body = f'{{"name": "Deep", "metadata": {nested(900)}}}'
    response = token_client(ours.admin).post(
        "/api/v1/projects/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["detail"]
    assert not Project.objects.filter(name="Deep").exists()


def test_project_metadata_deeper_than_a_panel_shows_is_refused_naming_the_field(ours):
    body = f'{{"name": "Deep", "metadata": {nested(20)}}}'
    response = token_client(ours.admin).post(
        "/api/v1/projects/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"metadata": ["JSON nested deeper than 16 levels"]}
    assert not Project.objects.filter(name="Deep").exists()


def test_project_metadata_with_a_lone_surrogate_is_refused_naming_where(ours):
    kept = ours.project.metadata
    response = token_client(ours.admin).patch(
        f"/api/v1/projects/{ours.project.pk}/",
        '{"metadata": {"offer": ["12 months", "20% off \\ud800"]}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "$.metadata.offer[1] holds a lone UTF-16 surrogate" in response.json()["detail"]
    ours.project.refresh_from_db()
    assert ours.project.metadata == kept


def test_project_metadata_of_a_real_campaign_is_kept_as_sent(ours):
    metadata = {
        "offer": {"months": 12, "discount": 0.2, "regions": ["EU", "UK"]},
        "greeting": "Ol\u00e1 \U0001f600",
        "levels": json.loads(nested(12)),
    }
    response = token_client(ours.admin).post(
        "/api/v1/projects/", {"name": "Spring", "metadata": metadata}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Project.objects.get(name="Spring").metadata == metadata


def test_another_organizations_ids_still_answer_404_before_the_body_is_read(ours):
    others = build_org("Others")
    response = token_client(ours.admin).patch(
        f"/api/v1/projects/{others.project.pk}/", NESTED_5000, content_type="application/json"
    )
    assert response.status_code == 404
