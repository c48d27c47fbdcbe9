"""The supervision board's page, its read-only conversation view and its Offline action."""

from __future__ import annotations

import pytest

from conversations.models import ConversationEvent, EventKind, Rule
from presence.models import AgentPresence, PresenceChange, PresenceStatus
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def signed_in(client, member):
    client.login(username=member.user.email, password=PASSWORD)
    return client


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_board_with_their_agents(client, ours, others, role):
    response = signed_in(client, ours.member(role)).get("/supervision/")
    page = response.content.decode()

    assert response.status_code == 200
    assert ours.agent.user.display_name in page
    assert others.agent.user.display_name not in page
    assert "/static/js/supervision.js" in page


def test_an_agent_has_no_board(client, ours):
    assert signed_in(client, ours.agent).get("/supervision/").status_code == 403


def test_the_board_asks_a_stranger_to_sign_in(client):
    response = client.get("/supervision/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_conversation_opens_read_only_with_its_context_thread_and_history(client, ours):
    ConversationEvent.objects.create(
        conversation=ours.mine,
        kind=EventKind.ASSIGNED,
        rule=Rule.LEAST_LOADED,
        to_agent=ours.agent,
    )
    response = signed_in(client, ours.supervisor).get(
        f"/supervision/conversations/{ours.mine.pk}/?panel=1"
    )
    page = response.content.decode()

    assert response.status_code == 200
    assert ours.mine.contact.name in page
    assert ours.project.name in page
    assert "Hello from a customer of Ours" in page
    assert "Least loaded eligible agent" in page
    assert "<form" not in page  # nothing to change here


def test_another_organizations_conversation_is_not_found_on_the_board(client, ours, others):
    response = signed_in(client, ours.supervisor).get(
        f"/supervision/conversations/{others.mine.pk}/"
    )

    assert response.status_code == 404


def test_a_supervisor_sets_an_agent_offline_and_is_recorded_as_who_did_it(client, ours):
    response = signed_in(client, ours.supervisor).post(
        f"/supervision/members/{ours.agent.pk}/offline/"
    )

    assert response.status_code == 200
    assert response.json()["presence"] == PresenceStatus.OFFLINE
    assert AgentPresence.objects.get(membership=ours.agent).status == PresenceStatus.OFFLINE
    change = PresenceChange.objects.filter(membership=ours.agent).first()
    assert change.actor == ours.supervisor
    assert change.source == "supervisor"


def test_setting_offline_needs_the_csrf_token_of_the_page(ours):
    from django.test import Client

    client = signed_in(Client(enforce_csrf_checks=True), ours.supervisor)

    assert client.post(f"/supervision/members/{ours.agent.pk}/offline/").status_code == 403
    assert AgentPresence.objects.get(membership=ours.agent).status == PresenceStatus.AVAILABLE


def test_another_organizations_agent_cannot_be_set_offline(client, ours, others):
    response = signed_in(client, ours.supervisor).post(
        f"/supervision/members/{others.agent.pk}/offline/"
    )

    assert response.status_code == 404
    assert AgentPresence.objects.get(membership=others.agent).status == PresenceStatus.AVAILABLE


def test_an_agent_cannot_set_a_colleague_offline(client, ours):
    response = signed_in(client, ours.agent).post(
        f"/supervision/members/{ours.colleague.pk}/offline/"
    )

    assert response.status_code == 403
    assert AgentPresence.objects.get(membership=ours.colleague).status == PresenceStatus.AVAILABLE
