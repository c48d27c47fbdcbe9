"""Internal notes and the ``search`` filter, through the API."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conversations.models import ConversationStatus, Direction, Message
from tests.factories import ContactFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db


def test_a_private_text_is_kept_as_a_note_and_never_handed_to_the_outbox(
    ours, as_member, django_capture_on_commit_callbacks
):
    before = ours.mine.last_message_at
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        response = as_member(ours.agent).post(
            f"/api/v1/conversations/{ours.mine.pk}/messages/",
            {"text": "Customer prefers e-mail", "private": True},
            format="json",
        )

    assert response.status_code == 201
    assert response.json()["status"] == ""
    note = Message.objects.get(pk=response.json()["id"])
    assert (note.direction, note.text, note.sender) == (
        Direction.NOTE,
        "Customer prefers e-mail",
        ours.agent,
    )
    assert note.send_after is None
    assert not Message.objects.to_send().exists()
    # Only the realtime push goes out after commit: no send task.
    assert len(hooks) == 1
    ours.mine.refresh_from_db()
    assert ours.mine.last_message_at == before


def test_a_note_lists_with_direction_note(ours, as_member):
    client = as_member(ours.agent)
    client.post(
        f"/api/v1/conversations/{ours.mine.pk}/messages/",
        {"text": "VIP", "private": True},
        format="json",
    )

    messages = client.get(f"/api/v1/conversations/{ours.mine.pk}/messages/").json()["results"]

    assert [m["direction"] for m in messages] == ["in", "note"]


def test_a_note_on_a_closed_chat_is_kept(ours, as_member):
    ours.mine.status = ConversationStatus.CLOSED
    ours.mine.closed_at = timezone.now()
    ours.mine.save()

    response = as_member(ours.supervisor).post(
        f"/api/v1/conversations/{ours.mine.pk}/messages/",
        {"text": "Follow up next week", "private": True},
        format="json",
    )

    assert response.status_code == 201


def test_an_empty_note_is_refused_naming_the_text(ours, as_member):
    response = as_member(ours.agent).post(
        f"/api/v1/conversations/{ours.mine.pk}/messages/",
        {"text": "   ", "private": True},
        format="json",
    )

    assert response.status_code == 400
    assert "text" in response.json()
    assert not Message.objects.filter(direction=Direction.NOTE).exists()


def found(client, query):
    response = client.get("/api/v1/conversations/", {"search": query})
    assert response.status_code == 200, response.json()
    return {c["id"] for c in response.json()["results"]}


def test_search_finds_conversations_by_message_words_name_and_number(ours, as_member):
    customer = ContactFactory(
        organization=ours.project.organization, name="Maria Gonzalez", wa_id="447700900123"
    )
    closed = ConversationFactory(
        channel=ours.channel, contact=customer, agent=ours.agent, status="closed"
    )
    MessageFactory(conversation=closed, text="My router keeps dropping the connection")
    client = as_member(ours.agent)

    assert found(client, "router") == {closed.pk}
    assert found(client, "ROUTE dropp") == {closed.pk}  # prefixes, every word, any case
    assert found(client, "rout") == set()  # shorter than five letters: a whole word
    assert found(client, "gonz") == {closed.pk}  # a name: a prefix from the first letter
    assert found(client, "router printer") == set()
    assert found(client, "gonzalez") == {closed.pk}
    assert found(client, "+44 7700 900") == {closed.pk}
    assert found(client, "Hello Ours") == {ours.mine.pk}


def test_an_agent_searches_only_their_own_a_supervisor_the_organizations(ours, others, as_member):
    MessageFactory(conversation=ours.theirs, text="invoice number 42")
    MessageFactory(conversation=ours.mine, text="invoice for March")
    MessageFactory(conversation=others.mine, text="invoice from elsewhere")

    assert found(as_member(ours.agent), "invoice") == {ours.mine.pk}
    assert found(as_member(ours.supervisor), "invoice") == {ours.mine.pk, ours.theirs.pk}


@pytest.mark.parametrize("query", ["!!!", "'&|:*", "_"])
def test_a_search_with_no_words_finds_nothing_and_never_fails(ours, as_member, query):
    assert found(as_member(ours.supervisor), query) == set()


def test_a_search_too_long_is_refused_naming_it(ours, as_member):
    response = as_member(ours.agent).get("/api/v1/conversations/", {"search": "x" * 201})

    assert response.status_code == 400
    assert "search" in response.json()
