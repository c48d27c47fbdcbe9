"""Quick replies through the API: agents read them, supervisors and admins keep them,
and one organization never sees or names another's."""

from __future__ import annotations

import pytest

from conversations.models import QuickReply

pytestmark = pytest.mark.django_db

URL = "/api/v1/quick-replies/"


def a_reply(org, **fields):
    values = {"shortcut": "hello", "text": "Hello {customer.first_name}!", "project": None}
    values.update(fields)
    return QuickReply.objects.create(organization=org.project.organization, **values)


def test_an_agent_reads_the_organizations_quick_replies(ours, others, as_member):
    a_reply(ours, shortcut="thanks", project=ours.project)
    a_reply(ours, shortcut="hello")
    a_reply(others, shortcut="theirs")

    response = as_member(ours.agent).get(URL)

    assert response.status_code == 200
    assert [(r["shortcut"], r["project"]) for r in response.json()["results"]] == [
        ("hello", None),
        ("thanks", ours.project.pk),
    ]


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_a_supervisor_or_admin_keeps_quick_replies(ours, as_member, role):
    client = as_member(ours.member(role))

    created = client.post(
        URL,
        {"shortcut": "/Renew", "text": "Your renewal is ready.", "project": ours.project.pk},
        format="json",
    )
    assert created.status_code == 201, created.json()
    reply = created.json()
    assert (reply["shortcut"], reply["project"]) == ("renew", ours.project.pk)

    changed = client.patch(
        f"{URL}{reply['id']}/", {"project": None, "text": "Ready."}, format="json"
    )
    assert changed.status_code == 200
    assert (changed.json()["project"], changed.json()["text"]) == (None, "Ready.")

    assert client.delete(f"{URL}{reply['id']}/").status_code == 204
    assert not QuickReply.objects.exists()


def test_an_agent_may_not_add_change_or_delete_one(ours, as_member):
    reply = a_reply(ours)
    client = as_member(ours.agent)

    assert client.post(URL, {"shortcut": "x", "text": "y"}, format="json").status_code == 403
    assert client.patch(f"{URL}{reply.pk}/", {"text": "changed"}, format="json").status_code == 403
    assert client.delete(f"{URL}{reply.pk}/").status_code == 403
    reply.refresh_from_db()
    assert reply.text == "Hello {customer.first_name}!"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_organizations_quick_reply_is_not_found(ours, others, as_member, method):
    theirs = a_reply(others)

    response = getattr(as_member(ours.supervisor), method)(
        f"{URL}{theirs.pk}/", {"text": "x"}, format="json"
    )

    assert response.status_code == 404
    assert QuickReply.objects.get(pk=theirs.pk).text == "Hello {customer.first_name}!"


def test_a_project_of_another_organization_is_refused_naming_it(ours, others, as_member):
    client = as_member(ours.supervisor)
    mine = a_reply(ours)

    created = client.post(
        URL, {"shortcut": "x", "text": "y", "project": others.project.pk}, format="json"
    )
    changed = client.patch(f"{URL}{mine.pk}/", {"project": others.project.pk}, format="json")

    assert created.status_code == 400 and "project" in created.json()
    assert changed.status_code == 400 and "project" in changed.json()
    assert QuickReply.objects.count() == 1
    mine.refresh_from_db()
    assert mine.project is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"shortcut": "two words", "text": "x"}, "shortcut"),
        ({"shortcut": "", "text": "x"}, "shortcut"),
        ({"shortcut": "ok", "text": ""}, "text"),
        ({"shortcut": "ok", "text": "x" * 5000}, "text"),
    ],
)
def test_a_bad_quick_reply_is_refused_naming_the_field(ours, as_member, body, field):
    response = as_member(ours.supervisor).post(URL, body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not QuickReply.objects.exists()


def test_a_shortcut_is_unique_within_its_project_and_among_those_for_every_project(ours, as_member):
    client = as_member(ours.supervisor)
    a_reply(ours, shortcut="hello")
    a_reply(ours, shortcut="hello", project=ours.project)

    for project in (None, ours.project.pk):
        response = client.post(
            URL, {"shortcut": "HELLO", "text": "x", "project": project}, format="json"
        )
        assert response.status_code == 400
        assert "shortcut" in response.json()
    assert QuickReply.objects.count() == 2
