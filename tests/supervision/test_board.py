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


def candidate_names(client, conversation) -> dict[str, bool]:
    response = client.get(f"/supervision/conversations/{conversation.pk}/candidates/")
    assert response.status_code == 200
    return {a["name"]: a["over_capacity"] for a in response.json()["agents"]}


def test_the_assign_list_offers_only_colleagues_who_can_take_the_chat(client, ours):
    from tests.factories import MembershipFactory

    def colleague(name, **kwargs):
        kwargs.setdefault("projects", [ours.project])
        return MembershipFactory(organization=ours.agent.organization, user__name=name, **kwargs)

    colleague("Olly Offline", presence=PresenceStatus.OFFLINE)
    colleague("Bea Busy", presence=PresenceStatus.BUSY)
    colleague("Fritz German", languages=["de"])
    colleague("Nia Elsewhere", projects=[])
    colleague("Finn Full", max_open=0)
    ours.mine.required_skills = []
    ours.mine.save(update_fields=["required_skills"])

    names = candidate_names(signed_in(client, ours.supervisor), ours.mine)

    assert "Olly Offline" not in names
    assert "Fritz German" not in names  # the chat is in English
    assert "Nia Elsewhere" not in names  # not in the project
    assert ours.agent.user.display_name not in names  # has it already
    assert names["Bea Busy"] is False
    assert names["Finn Full"] is True  # offered, and the board asks first
    assert names[ours.colleague.user.display_name] is False


def test_the_assign_list_is_the_organizations_and_the_supervisors(client, ours, others):
    assert (
        signed_in(client, ours.supervisor)
        .get(f"/supervision/conversations/{others.mine.pk}/candidates/")
        .status_code
        == 404
    )
    client.logout()
    assert (
        signed_in(client, ours.agent)
        .get(f"/supervision/conversations/{ours.mine.pk}/candidates/")
        .status_code
        == 403
    )


def test_breaches_are_counted_open_now_and_today_per_project(client, ours, others):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.models import ConversationStatus

    now = timezone.now()
    ours.mine.sla_breached_at = now
    ours.mine.save(update_fields=["sla_breached_at"])
    ours.theirs.sla_breached_at = now
    ours.theirs.status = ConversationStatus.CLOSED
    ours.theirs.save(update_fields=["sla_breached_at", "status"])
    ours.queued.sla_breached_at = now - timedelta(days=2)
    ours.queued.save(update_fields=["sla_breached_at"])
    others.mine.sla_breached_at = now
    others.mine.save(update_fields=["sla_breached_at"])

    counts = signed_in(client, ours.supervisor).get("/supervision/sla/").json()["sla"]

    assert counts == [{"project": ours.project.pk, "open": 2, "today": 2}]


def test_the_board_names_project_settings_in_words_not_keys(client, ours):
    ours.project.sla_first_reply_seconds = 60
    ours.project.offer_timeout_seconds = 30
    ours.project.save()

    projects = signed_in(client, ours.supervisor).get("/supervision/sla/").json()["projects"]

    assert projects[0]["settings"] == [
        {"label": "First reply target", "value": "1 min"},
        {"label": "Offers", "value": "accepted within 30 s"},
    ]
    assert "sla_first_reply_seconds" not in client.get("/supervision/").content.decode()


def test_a_long_thread_opens_at_its_latest_page_and_pages_back(client, ours):
    from tests.factories import MessageFactory

    for n in range(60):
        MessageFactory(conversation=ours.mine, text=f"Line {n:02d}")
    url = f"/supervision/conversations/{ours.mine.pk}/?panel=1"
    signed_in(client, ours.supervisor)

    latest = client.get(url).content.decode()
    earliest = client.get(f"{url}&page=1").content.decode()

    assert "Line 59" in latest and "Line 09" not in latest
    assert "Earlier messages" in latest
    assert "Hello from a customer of Ours" in earliest and "Line 59" not in earliest
    assert "Later messages" in earliest
