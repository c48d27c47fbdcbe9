"""The API's transfer to a colleague with no room, and Busy with a reason."""

from __future__ import annotations

import pytest

from conversations.models import ConversationEvent, EventKind
from presence.models import AgentPresence, BusyReason, PresenceChange, PresenceStatus
from tests.factories import ConversationFactory


@pytest.fixture
def full_colleague(ours):
    ours.colleague.max_open = 1
    ours.colleague.save()
    return ours.colleague


def test_an_agents_transfer_to_a_full_colleague_answers_with_the_chat_waiting_for_them(
    ours, as_member, full_colleague
):
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": full_colleague.pk, "note": "billing question"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["agent"], body["waiting_for"]) == (
        "queued",
        None,
        full_colleague.pk,
    )
    assert body["waiting_until"] is not None


def test_an_agent_cannot_force_a_chat_over_a_colleagues_capacity(ours, as_member, full_colleague):
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": full_colleague.pk, "wait": False},
        format="json",
    )

    assert response.status_code == 403
    assert "only a supervisor" in response.json()["detail"]
    ours.mine.refresh_from_db()
    assert ours.mine.agent == ours.agent


def test_a_supervisors_transfer_to_a_full_colleague_lands_over_capacity(
    ours, as_member, full_colleague
):
    response = as_member(ours.supervisor).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": full_colleague.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["agent"], response.json()["waiting_for"]) == (full_colleague.pk, None)
    event = ConversationEvent.objects.filter(
        conversation=ours.mine, kind=EventKind.TRANSFERRED
    ).get()
    assert event.data["over_capacity"] is True


def test_wait_must_be_a_boolean(ours, as_member, full_colleague):
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/transfer/",
        {"agent": full_colleague.pk, "wait": "perhaps"},
        format="json",
    )
    assert response.status_code == 400
    assert "wait" in response.json()


@pytest.fixture
def reasons(ours):
    return {
        name: BusyReason.objects.create(organization=ours.agent.organization, name=name)
        for name in ("Break", "Training")
    }


@pytest.mark.parametrize("by", ["name", "id"])
def test_busy_takes_a_reason_by_name_or_id_and_keeps_it_in_the_history(
    ours, as_member, reasons, by
):
    value = "training" if by == "name" else reasons["Training"].pk

    response = as_member(ours.agent).put(
        "/api/v1/me/presence/", {"status": "busy", "reason": value}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == ("busy", "Training")
    change = PresenceChange.objects.get(membership=ours.agent, status=PresenceStatus.BUSY)
    assert change.reason_name == "Training"
    me = as_member(ours.agent).get("/api/v1/me/").json()
    assert (me["presence"], me["presence_reason"]) == ("busy", "Training")


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "busy", "reason": "Nap"},
        {"status": "available", "reason": "Break"},
        {"status": "busy", "reason": ["Break"]},
        {"status": "busy", "reason": ""},
    ],
    ids=["unknown", "not-busy", "a-list", "blank"],
)
def test_a_bad_reason_is_refused_naming_it_and_nothing_changes(ours, as_member, reasons, payload):
    before = AgentPresence.objects.get(membership=ours.agent).status

    response = as_member(ours.agent).put("/api/v1/me/presence/", payload, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert AgentPresence.objects.get(membership=ours.agent).status == before


def test_another_organizations_reason_is_unknown_here(ours, others, as_member):
    theirs = BusyReason.objects.create(organization=others.agent.organization, name="Siesta")

    response = as_member(ours.agent).put(
        "/api/v1/me/presence/", {"status": "busy", "reason": theirs.pk}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()


def test_the_board_lists_the_busy_reason(ours, as_member, reasons):
    as_member(ours.agent).put(
        "/api/v1/me/presence/", {"status": "busy", "reason": "Break"}, format="json"
    )
    ConversationFactory(channel=ours.channel)

    response = as_member(ours.supervisor).get("/api/v1/supervision/agents/")

    (row,) = [a for a in response.json()["results"] if a["id"] == ours.agent.pk]
    assert (row["presence"], row["presence_reason"]) == ("busy", "Break")
