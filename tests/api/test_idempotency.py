"""``Idempotency-Key`` on the API's POSTs: a retry answers the first result and does
nothing twice, on every POST endpoint, those added later included."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token

from api import idempotency
from api.models import IdempotentRequest
from api.permissions import ScopedAPIView
from conversations.models import Message
from tests.api.conftest import token_client
from tests.celery_worker import wait_until
from tests.factories import ConversationFactory, MembershipFactory
from tests.live_server import daphne_process, daphne_server, fake_cloud_api  # noqa: F401


def send(client, conversation, text, key="retry-1"):
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/",
        {"text": text},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_retry_with_the_same_key_answers_the_first_result_and_sends_nothing_twice(ours):
    ours.mine.last_inbound_at = timezone.now()
    ours.mine.save()
    client = token_client(ours.agent)
    first = send(client, ours.mine, "Your order ships today.")
    again = send(client, ours.mine, "Your order ships today.")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert (
        Message.objects.filter(conversation=ours.mine, text="Your order ships today.").count() == 1
    )


def test_the_same_key_with_another_body_is_422_and_changes_nothing(ours):
    ours.mine.last_inbound_at = timezone.now()
    ours.mine.save()
    client = token_client(ours.agent)
    send(client, ours.mine, "First text.")
    refused = send(client, ours.mine, "Another text.")
    assert refused.status_code == 422
    assert "Idempotency-Key" in refused.json()["detail"]
    assert not Message.objects.filter(text="Another text.").exists()


def test_a_refusal_is_answered_again_too_and_keys_are_per_caller(ours):
    client = token_client(ours.agent)
    closed = client.post(
        f"/api/v1/conversations/{ours.mine.pk}/close/",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="close-1",
    )
    again = client.post(
        f"/api/v1/conversations/{ours.mine.pk}/close/",
        {},
        format="json",
        HTTP_IDEMPOTENCY_KEY="close-1",
    )
    assert closed.status_code == again.status_code == 400
    assert closed.json() == again.json()
    # A colleague's same key is their own.
    theirs = token_client(ours.colleague).post(
        f"/api/v1/conversations/{ours.theirs.pk}/close/",
        {"outcome": "solved"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="close-1",
    )
    assert theirs.status_code == 200


def test_a_key_too_long_is_a_400_naming_the_header(ours):
    client = token_client(ours.admin)
    answer = client.post(
        "/api/v1/projects/", {"name": "Autumn"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300
    )
    assert answer.status_code == 400
    assert "Idempotency-Key" in answer.json()


def test_keys_are_forgotten_after_a_day(ours):
    client = token_client(ours.admin)
    client.post("/api/v1/projects/", {"name": "Autumn"}, format="json", HTTP_IDEMPOTENCY_KEY="a")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency.forget_expired() == 1
    assert not IdempotentRequest.objects.exists()


def test_every_post_endpoint_of_the_api_goes_through_the_one_mechanism():
    """Any view the API routes a POST to, today's and tomorrow's, derives from the base
    view that runs the idempotency keys."""

    def views(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns)
            else:
                yield pattern.callback

    api_views = [
        getattr(view, "cls", None)
        for view in views(get_resolver().url_patterns)
        if view.__module__.startswith("api.") or getattr(view, "cls", None)
    ]
    posting = [
        cls
        for cls in api_views
        if cls is not None
        and cls.__module__.startswith("api.")
        and ("post" in getattr(cls, "http_method_names", []))
    ]
    assert posting
    assert all(issubclass(cls, ScopedAPIView) for cls in posting), posting


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_retries_of_one_message_send_one_message_to_whatsapp(
    daphne_server,  # noqa: F811
    fake_cloud_api,  # noqa: F811
):
    agent = MembershipFactory()
    conversation = ConversationFactory(
        channel__organization=agent.organization, agent=agent, last_inbound_at=timezone.now()
    )
    token, _ = Token.objects.get_or_create(user=agent.user)
    url = f"{daphne_server.url}/api/v1/conversations/{conversation.pk}/messages/"
    headers = {
        "Authorization": f"Token {token.key}",
        "Idempotency-Key": "one-send",
        "Content-Type": "application/json",
    }
    body = json.dumps({"text": "We refunded your order."})

    def post(_: int) -> httpx.Response:
        return httpx.post(url, content=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(50)))

    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    wait_until(lambda: fake_cloud_api.sent, timeout=20)
    assert len(fake_cloud_api.sent) == 1
    assert Message.objects.filter(conversation=conversation).count() == 1
