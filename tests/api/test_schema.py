"""The API as its OpenAPI schema describes it: Schemathesis generates requests for every
operation (valid and invalid) and calls the app in-process with an admin's token. No
answer may be a server error, and every answer must be one the schema documents, in
the documented shape."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import build_org

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
    }
    return {"Authorization": f"Token {token.key}"}, real_ids


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case, world):
    headers, real_ids = world
    identifier = (case.path_parameters or {}).get("id")
    if isinstance(identifier, int) and identifier % 2 == 0:
        resource = case.path.split("/")[3]
        case.path_parameters["id"] = real_ids[resource]
    case.call_and_validate(headers=headers, checks=CHECKS)
