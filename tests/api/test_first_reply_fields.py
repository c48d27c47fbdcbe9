"""A conversation read through the API carries its first-reply moments, and a client
cannot write them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from conversations.sla import sla_breaches_sweep


def test_a_breached_chat_shows_its_deadline_and_breach_and_then_its_reply(ours, as_member):
    ours.mine.sla_due_at = timezone.now() - timedelta(seconds=5)
    ours.mine.save(update_fields=["sla_due_at"])
    sla_breaches_sweep()
    client = as_member(ours.agent)
    url = f"/api/v1/conversations/{ours.mine.pk}/"

    body = client.get(url).json()
    assert body["sla_due_at"] is not None
    assert body["sla_breached_at"] is not None
    assert body["first_reply_at"] is None

    client.post(f"{url}messages/", {"text": "Sorry for the wait"}, format="json")
    assert client.get(url).json()["first_reply_at"] is not None


def test_the_first_reply_moments_cannot_be_written(ours, as_member):
    url = f"/api/v1/conversations/{ours.mine.pk}/"
    client = as_member(ours.supervisor)

    client.patch(url, {"first_reply_at": "2026-01-01T00:00:00Z"}, format="json")

    ours.mine.refresh_from_db()
    assert ours.mine.first_reply_at is None


def test_the_schema_documents_the_first_reply_moments(as_member, ours):
    schema = as_member(ours.admin).get("/api/schema/?format=json").json()
    fields = schema["components"]["schemas"]["Conversation"]["properties"]
    for name in ("sla_due_at", "first_reply_at", "sla_breached_at"):
        assert fields[name]["readOnly"] is True
        assert fields[name]["description"]
