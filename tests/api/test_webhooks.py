"""Subscriptions through the API and the admin: who may, what is refused, and the
delivery log with "send again"."""

from __future__ import annotations

import pytest

from conversations.events import EventType
from tests.api.conftest import token_client
from webhooks import delivery, services
from webhooks.models import DeliveryAttempt, EventState, WebhookEvent

SECRET = "a-long-shared-secret-0123456789"


@pytest.fixture
def public_urls_only(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False


def test_an_admin_subscribes_and_the_secret_is_never_shown(ours):
    client = token_client(ours.admin)
    made = client.post(
        "/api/v1/webhooks/",
        {"url": "https://crm.example.test/hook", "events": ["message.created"], "secret": SECRET},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert "secret" not in made.json()
    listed = client.get("/api/v1/webhooks/").json()["results"]
    assert [s["url"] for s in listed] == ["https://crm.example.test/hook"]


def test_every_type_of_the_catalogue_is_accepted_and_no_other(ours):
    client = token_client(ours.admin)
    every = [t.value for t in EventType]
    ok = client.post(
        "/api/v1/webhooks/",
        {"url": "https://crm.example.test/a", "events": every, "secret": SECRET},
        format="json",
    )
    assert ok.status_code == 201
    refused = client.post(
        "/api/v1/webhooks/",
        {"url": "https://crm.example.test/b", "events": ["chat.exploded"], "secret": SECRET},
        format="json",
    )
    assert refused.status_code == 400 and "events" in refused.json()


def test_agents_and_supervisors_may_not_and_another_organization_is_404(ours, others):
    subscription = services.subscription_create(
        organization=ours.admin.organization,
        url="https://crm.example.test/hook",
        events=["message.created"],
        secret=SECRET,
    )
    for member in (ours.agent, ours.supervisor):
        assert token_client(member).get("/api/v1/webhooks/").status_code == 403
    answer = token_client(others.admin).get(f"/api/v1/webhooks/{subscription.pk}/deliveries/")
    assert answer.status_code == 404


def test_private_and_loopback_urls_are_refused_in_production(ours, public_urls_only):
    client = token_client(ours.admin)
    for url in (
        "http://127.0.0.1:8000/x",
        "http://10.0.0.7/x",
        "http://[::1]/x",
        "http://localhost/x",
    ):
        answer = client.post(
            "/api/v1/webhooks/",
            {"url": url, "events": ["message.created"], "secret": SECRET},
            format="json",
        )
        assert answer.status_code == 400, url
        assert "url" in answer.json()


def test_the_delivery_log_and_send_again(ours, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    subscription = services.subscription_create(
        organization=ours.admin.organization,
        url="http://127.0.0.1:9/refused",  # nothing listens: the attempt fails
        events=["conversation.updated"],
        secret=SECRET,
    )
    event = WebhookEvent.objects.create(
        subscription=subscription, type="conversation.updated", data={"id": 1}
    )
    delivery.chain_run(subscription.pk, schedule=False)
    attempt = DeliveryAttempt.objects.get(event=event)
    assert attempt.status_code is None and attempt.error and not attempt.succeeded
    client = token_client(ours.admin)
    log = client.get(f"/api/v1/webhooks/{subscription.pk}/deliveries/").json()["results"]
    assert log[0]["event"] == str(event.event_id) and log[0]["error"]
    again = client.post(
        f"/api/v1/webhooks/{subscription.pk}/deliveries/{log[0]['event_row']}/send-again/"
    )
    assert again.status_code == 201
    queued = WebhookEvent.objects.get(pk=again.json()["event_row"])
    assert queued.event_id == event.event_id and queued.state == EventState.PENDING


def test_the_admin_sends_an_event_again(ours, client):
    subscription = services.subscription_create(
        organization=ours.admin.organization,
        url="https://crm.example.test/hook",
        events=["conversation.updated"],
        secret=SECRET,
    )
    event = WebhookEvent.objects.create(
        subscription=subscription,
        type="conversation.updated",
        data={"id": 1},
        state=EventState.FAILED,
    )
    ours.admin.user.is_staff = True
    ours.admin.user.save()
    client.force_login(ours.admin.user)
    page = client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    assert page.status_code == 200
    client.post(
        "/admin/webhooks/webhookevent/",
        {"action": "send_again", "_selected_action": [event.pk]},
    )
    assert WebhookEvent.objects.filter(event_id=event.event_id, state=EventState.PENDING).exists()


def test_the_admin_never_shows_the_secret_and_keeps_it_when_left_empty(ours, client):
    subscription = services.subscription_create(
        organization=ours.admin.organization,
        url="https://crm.example.test/hook",
        events=["conversation.updated"],
        secret=SECRET,
    )
    ours.admin.user.is_staff = True
    ours.admin.user.save()
    client.force_login(ours.admin.user)
    page = client.get(f"/admin/webhooks/subscription/{subscription.pk}/change/")
    assert page.status_code == 200 and SECRET.encode() not in page.content
    saved = client.post(
        f"/admin/webhooks/subscription/{subscription.pk}/change/",
        {
            "organization": ours.admin.organization_id,
            "url": "https://crm.example.test/other",
            "events": "conversation.updated,conversation.closed",
            "secret": "",
            "active": "on",
            "description": "",
        },
    )
    assert saved.status_code == 302, saved.content[:2000]
    subscription.refresh_from_db()
    assert subscription.secret == SECRET
    assert subscription.url == "https://crm.example.test/other"
    assert subscription.events == ["conversation.closed", "conversation.updated"]
