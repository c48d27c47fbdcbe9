"""The API's side of offers and of a chat's language: the ``offered`` status filter, a
channel that detects languages, and a person's correction of a chat's language."""

from __future__ import annotations

import pytest

from routing.router import route_queue

pytestmark = pytest.mark.django_db


def test_supervisors_list_the_chats_offered_now(ours, as_member):
    ours.project.offer_timeout_seconds = 30
    ours.project.save(update_fields=["offer_timeout_seconds"])
    route_queue(organization_id=ours.project.organization_id)

    response = as_member(ours.supervisor).get("/api/v1/conversations/?status=offered")

    assert response.status_code == 200
    (offered,) = response.json()["results"]
    assert offered["id"] == ours.queued.pk
    assert offered["offered_to"] in (ours.agent.pk, ours.colleague.pk, ours.supervisor.pk)
    assert offered["offer_expires_at"] and offered["agent"] is None


def test_an_unknown_status_is_refused_by_name(ours, as_member):
    response = as_member(ours.supervisor).get("/api/v1/conversations/?status=proposed")

    assert response.status_code == 400
    assert "status" in response.json()


def test_an_admin_turns_language_detection_on_for_a_channel(ours, as_member):
    url = f"/api/v1/channels/whatsapp/{ours.channel.pk}/"

    response = as_member(ours.admin).patch(url, {"detect_language": True}, format="json")

    assert response.status_code == 200 and response.json()["detect_language"] is True
    ours.channel.refresh_from_db()
    assert ours.channel.detect_language is True
    refused = as_member(ours.admin).patch(url, {"detect_language": "often"}, format="json")
    assert refused.status_code == 400 and "detect_language" in refused.json()


def test_a_person_setting_the_language_is_what_routing_reports(ours, as_member):
    url = f"/api/v1/conversations/{ours.queued.pk}/"

    response = as_member(ours.supervisor).patch(url, {"language": "DE"}, format="json")

    assert response.status_code == 200
    assert (response.json()["language"], response.json()["language_source"]) == ("de", "person")
