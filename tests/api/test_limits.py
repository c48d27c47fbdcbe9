"""Per-token request limits, counted in the shared cache."""

from __future__ import annotations

from tests.api.conftest import token_client


def test_the_call_past_the_limit_in_the_window_gets_429_with_retry_after(ours, settings):
    settings.API_RATE_PER_MINUTE = 5
    client = token_client(ours.agent)
    answers = [client.get("/api/v1/me/") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "throttled" in refused.json()["detail"].lower()


def test_each_token_has_its_own_limit(ours, settings):
    settings.API_RATE_PER_MINUTE = 2
    mine, theirs = token_client(ours.agent), token_client(ours.colleague)
    assert [mine.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert theirs.get("/api/v1/me/").status_code == 200


def test_writes_have_a_lower_limit_of_their_own(ours, settings):
    settings.API_WRITE_RATE_PER_MINUTE = 1
    client = token_client(ours.admin)
    first = client.post("/api/v1/projects/", {"name": "Winter"}, format="json")
    second = client.post("/api/v1/projects/", {"name": "Summer"}, format="json")
    assert (first.status_code, second.status_code) == (201, 429)
    assert client.get("/api/v1/projects/").status_code == 200


def test_integration_tokens_are_counted_apart_and_the_boards_session_is_not_held(ours, settings):
    from rest_framework.test import APIClient

    from api import tokens

    settings.API_RATE_PER_MINUTE = 2
    _, key = tokens.integration_token_create(created_by=ours.admin, name="CRM sync")
    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert [integration.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    # The same admin's own token has its own count.
    assert token_client(ours.admin).get("/api/v1/me/").status_code == 200
    board = APIClient()
    board.force_login(ours.supervisor.user)
    assert {board.get("/api/v1/supervision/queue/").status_code for _ in range(5)} == {200}
