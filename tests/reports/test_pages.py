"""The reports and planning pages: supervisors and admins only, reached from the board."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = ("/supervision/reports/", "/supervision/planning/")


def signed_in(client, member):
    client.login(username=member.user.email, password=PASSWORD)
    return client


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_open_the_page_with_their_projects_and_agents(
    client, ours, others, path, role
):
    response = signed_in(client, ours.member(role)).get(path)

    assert response.status_code == 200
    found = re.search(
        rb'<script id="[a-z]+-initial" type="application/json">(.*?)</script>', response.content
    )
    assert found
    initial = json.loads(found.group(1))
    assert [p["id"] for p in initial["projects"]] == [ours.project.pk]
    agents = {a["id"] for a in initial["agents"]}
    assert ours.agent.pk in agents and others.agent.pk not in agents


@pytest.mark.parametrize("path", PAGES)
def test_an_agent_has_no_reports_or_planning(client, ours, path):
    assert signed_in(client, ours.agent).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_stranger_is_asked_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_board_links_to_reports_and_planning(client, ours):
    board = signed_in(client, ours.supervisor).get("/supervision/").content.decode()

    assert 'href="/supervision/reports/"' in board
    assert 'href="/supervision/planning/"' in board
