"""The API as its OpenAPI schema describes it: Schemathesis generates requests for every
operation (valid and invalid) and calls the app in-process with an admin's token. No
answer may be a server error, and every answer must be one the schema documents, in
the documented shape. Besides what the schema allows, bodies come nested thousands of
levels deep or with strings no database stores (``flatmap_body``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, reject, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from channels_whatsapp.sample_media import photo_jpeg
from conversations.models import QuickReply
from tests.api.conftest import build_org
from tests.media.conftest import kept_file
from webhooks.services import subscription_create

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def in_process_requests():
    """Serve requests on the test's own connection and transaction, as Django's test
    client does: a finished request must not close the connection under the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(db, in_process_requests):
    ours = build_org("Ours")
    build_org("Others")
    token, _ = Token.objects.get_or_create(user=ours.admin.user)
    # Half of the generated ids point at real objects of the admin's organization, so
    # the operations are exercised on something that exists, not only on 404s.
    real_ids = {
        "projects": ours.project.pk,
        "channels": ours.channel.pk,
        "members": ours.agent.pk,
        "conversations": ours.mine.pk,
        "media": kept_file(ours.mine, "image", photo_jpeg(), "image/jpeg").pk,
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
    return {"Authorization": f"Token {token.key}"}, real_ids


# NUL and lone surrogates: valid JSON escapes, text no PostgreSQL column stores.
UNSTORABLE = ["\x00", "\ud800", "\udfff", "\udbff\u0000"]


def nested(body: Any, depth: int) -> bytes:
    """``body`` at the bottom of ``depth`` arrays, written as text: encoding it as a value
    would exhaust the test's own stack."""
    text = body if isinstance(body, bytes) else json.dumps(body, default=str).encode()
    return b"[" * depth + text + b"]" * depth


def with_unstorable(value: Any, bad: str) -> Any:
    """``value`` with ``bad`` in each of its strings, and in a key of each object; what
    is not JSON (raw bytes of an invalid body Schemathesis made) stays as it is."""
    if isinstance(value, str):
        return value + bad
    if isinstance(value, list):
        return [with_unstorable(item, bad) for item in value]
    if isinstance(value, dict):
        changed = {key: with_unstorable(item, bad) for key, item in value.items()}
        return {**changed, f"note{bad}": bad}
    if value is None or isinstance(value, bool | int | float):
        return {"value": value, "note": bad}
    return value


def _form_encodable(body: Any) -> bool:
    if not isinstance(body, dict):
        return True
    texts = [*body, *(value for value in body.values() if isinstance(value, str))]
    try:
        for text in texts:
            str(text).encode()
    except UnicodeEncodeError:
        return False
    return True


def _is_form(context: Any, body: Any) -> bool:
    """A multipart body: an attachment and its caption."""
    return isinstance(body, dict) and "file" in body


def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    """Half the bodies as generated; the rest nested beyond any sane depth, or carrying
    NUL and lone surrogates in every string. An optional body left out stays out."""
    if isinstance(body, NotSet):
        return st.just(body)
    if _is_form(context, body):
        # A form's fields are not JSON: nesting and lone surrogates do not apply.
        return st.just(body)
    return st.integers(0, 3).flatmap(
        lambda kind: (
            st.just(body)
            if kind < 2
            else st.builds(nested, st.just(body), st.integers(33, 5000))
            if kind == 2
            else st.builds(with_unstorable, st.just(body), st.sampled_from(UNSTORABLE))
        )
    )


@schema.hooks.apply(flatmap_body)
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case, world):
    if (case.media_type or "").startswith("multipart/") and not _form_encodable(case.body):
        # A form field's name or text with a lone surrogate cannot be put on the wire at
        # all: the test client refuses to encode it, so no server ever sees such a form.
        reject()
    headers, real_ids = world
    identifier = (case.path_parameters or {}).get("id")
    if isinstance(identifier, int) and identifier % 2 == 0:
        resource = case.path.split("/")[3]
        case.path_parameters["id"] = real_ids[resource]
    case.call_and_validate(headers=headers, checks=CHECKS)
