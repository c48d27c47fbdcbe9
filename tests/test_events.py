"""The event catalogue and its page agree: every type the server publishes is written down
with when it is sent, to whom and its ``data``, field by field, and nothing else is
published."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from conversations import realtime
from conversations.events import (
    DATA_SHAPES,
    BreachData,
    ContactData,
    ConversationData,
    EventType,
    MessageData,
    PresenceData,
    PresenceStatusValue,
    breach_payload,
    conversation_payload,
    message_payload,
    presence_payload,
)
from conversations.models import DockEvent
from dock.dock import dock_snapshot
from presence.models import AgentPresence, PresenceStatus
from presence.services import presence_set
from tests.factories import ConversationFactory, MembershipFactory, MessageFactory

PAGE = Path(__file__).resolve().parents[1] / "docs" / "events.md"
# The types the product contract names for the dock's socket and the event webhooks.
CONTRACT_TYPES = {
    "conversation.offered",
    "conversation.assigned",
    "conversation.updated",
    "conversation.closed",
    "conversation.transferred",
    "message.created",
    "message.status",
    "presence.changed",
    "sla.breached",
}
SHAPE_NAMES = {
    ConversationData: "conversation",
    ContactData: "contact",
    MessageData: "message",
    PresenceData: "presence",
    BreachData: "breach",
}


def sections(level: int, text: str) -> dict[str, str]:
    """The page's headings of ``level`` and the text under each, up to the next heading
    of that level or above."""
    marks = "#" * level
    parts = re.split(rf"^({marks} .+)$", text, flags=re.MULTILINE)
    return {
        heading[level + 1 :].strip(): body
        for heading, body in zip(parts[1::2], parts[2::2], strict=True)
    }


def page() -> dict[str, str]:
    return sections(2, PAGE.read_text())


def documented_types(section: str) -> dict[str, str]:
    return {name.strip("`"): body for name, body in sections(3, page()[section]).items()}


def test_every_type_published_is_documented_and_nothing_more():
    assert set(documented_types("Events")) == {t.value for t in EventType}


def test_each_documented_type_says_when_to_whom_and_its_data_shape():
    for name, body in documented_types("Events").items():
        assert "**When**" in body and "**To**" in body, name
        data = re.search(r"\*\*Data\*\*: an? \[(\w+)\]", body)
        assert data, f"{name} names no data shape"
        assert data.group(1) == SHAPE_NAMES[DATA_SHAPES[EventType(name)]], name


def test_each_data_shape_documents_exactly_its_fields():
    shapes = sections(3, page()["Data"])
    for shape, name in SHAPE_NAMES.items():
        fields = re.findall(r"^\| `(\w+)` \|", shapes[name], flags=re.MULTILINE)
        assert fields == list(shape.__annotations__), name


def test_every_type_the_contract_names_is_in_the_catalogue():
    assert {t.value for t in EventType} >= CONTRACT_TYPES


def test_presence_statuses_in_the_catalogue_are_the_presence_apps():
    assert set(get_args(PresenceStatusValue)) == set(PresenceStatus.values)


@pytest.mark.django_db
def test_the_builders_give_exactly_the_documented_fields():
    conversation = ConversationFactory()
    message = MessageFactory(conversation=conversation)
    built = conversation_payload(conversation)
    assert set(built) == set(ConversationData.__annotations__)
    assert set(built["contact"]) == set(ContactData.__annotations__)
    assert set(message_payload(message)) == set(MessageData.__annotations__)
    conversation.sla_due_at = conversation.sla_breached_at = conversation.created_at
    assert set(breach_payload(conversation)) == set(BreachData.__annotations__)
    member = MembershipFactory()
    presence = AgentPresence.objects.get(membership=member)
    for payload in (
        presence_payload(member_id=member.pk, presence=presence),
        presence_payload(member_id=member.pk, presence=None),
    ):
        assert set(payload) == set(PresenceData.__annotations__)


@pytest.mark.django_db
def test_a_presence_looks_the_same_in_the_dock_snapshot_and_in_its_event():
    member = MembershipFactory(presence=PresenceStatus.OFFLINE)
    presence_set(member=member, status=PresenceStatus.BUSY, source="dock")

    event = DockEvent.objects.get(membership=member, type=EventType.PRESENCE_CHANGED)
    assert dock_snapshot(member=member)["data"]["presence"] == event.data


@pytest.mark.django_db
def test_a_member_never_given_a_presence_shows_offline_in_the_same_shape():
    member = MembershipFactory()
    AgentPresence.objects.filter(membership=member).delete()

    assert dock_snapshot(member=member)["data"]["presence"] == {
        "member": member.pk,
        "status": "offline",
        "since": None,
        "source": None,
    }


@pytest.mark.django_db
def test_a_type_outside_the_catalogue_is_refused_and_nothing_is_stored():
    member = MembershipFactory()
    with pytest.raises(ValueError, match=re.escape("conversation.snoozed")):
        realtime.publish("conversation.snoozed", {"id": 1}, to=[member.pk])  # type: ignore[arg-type]
    assert not DockEvent.objects.exists()
