"""A seeded month of one organization's chats, written straight to the tables, and the
same month kept as plain records so a test can work a figure out by hand."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Direction,
    EventKind,
    Membership,
    Message,
    MessageStatus,
    Project,
    Role,
)
from tests.api.conftest import others, ours  # noqa: F401
from tests.factories import ChannelFactory, MembershipFactory, ProjectFactory
from tests.live_server import (  # noqa: F401
    browser,
    daphne_process,
    daphne_server,
    fake_cloud_api,
    page,
)

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)
SLA_SECONDS = 120
# Internal notes (``direction = "note"``) come with their own change of the column; until
# it is wider than "out", a seeded thread carries none.
NOTE = "note" if (Message._meta.get_field("direction").max_length or 0) >= 4 else None


@pytest.fixture(autouse=True)
def _quick_passwords(request, settings):
    if request.node.get_closest_marker("browser"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Chat:
    """One seeded conversation as plain values."""

    created_at: datetime
    project: Project
    agent: Membership | None
    messages: list[tuple[str, datetime]] = field(default_factory=list)
    events: list[tuple[str, datetime]] = field(default_factory=list)
    closed_at: datetime | None = None


@dataclass
class Month:
    supervisor: Membership
    agents: list[Membership]
    with_sla: Project
    without_sla: Project
    chats: list[Chat]


def seed_month(seed: int = 26, count: int = 240) -> Month:
    """``count`` chats over March 2026: most answered, some never, some begun by our
    template; internal notes ahead of replies; transfers; some still open."""
    rng = random.Random(seed)
    supervisor = cast(
        Membership,
        MembershipFactory(role=Role.SUPERVISOR, user__email="sam@reports.test", max_open=0),
    )
    org = supervisor.organization
    with_sla = cast(
        Project,
        ProjectFactory(organization=org, name="Renewals", sla_first_reply_seconds=SLA_SECONDS),
    )
    without_sla = cast(Project, ProjectFactory(organization=org, name="Claims"))
    channels = {
        p.pk: cast(Channel, ChannelFactory(organization=org, project=p))
        for p in (with_sla, without_sla)
    }
    agents = [
        cast(
            Membership,
            MembershipFactory(
                organization=org, user__email=f"{name}@reports.test", projects=[with_sla]
            ),
        )
        for name in ("ana", "ben", "dev")
    ]
    chats: list[Chat] = []
    for _ in range(count):
        created = MARCH + timedelta(seconds=rng.randrange(31 * 24 * 3600))
        project = with_sla if rng.random() < 0.7 else without_sla
        agent = rng.choice(agents) if rng.random() < 0.9 else None
        chat = Chat(created_at=created, project=project, agent=agent)
        at = created
        if rng.random() < 0.1:  # our template first, then the customer
            chat.messages.append((Direction.OUT, at))
            at += timedelta(seconds=rng.randrange(30, 3600))
        first_in = at
        chat.messages.append((Direction.IN, first_in))
        for _ in range(rng.randrange(3)):
            chat.messages.append((Direction.IN, first_in + timedelta(seconds=rng.randrange(1, 20))))
        if agent is not None:
            assigned = first_in + timedelta(seconds=rng.randrange(0, 90))
            chat.events.append((EventKind.ASSIGNED, assigned))
            if rng.random() < 0.15:
                chat.events.append(
                    (EventKind.TRANSFERRED, assigned + timedelta(seconds=rng.randrange(60, 600)))
                )
            if rng.random() < 0.9:
                reply = first_in + timedelta(seconds=rng.randrange(5, 400))
                # A note ahead of the reply is no reply.
                if NOTE:
                    chat.messages.append((NOTE, reply - timedelta(seconds=3)))
                chat.messages.append((Direction.OUT, reply))
                for n in range(rng.randrange(4)):
                    chat.messages.append((Direction.OUT, reply + timedelta(seconds=30 * (n + 1))))
            if rng.random() < 0.85:
                chat.closed_at = assigned + timedelta(seconds=rng.randrange(120, 3000))
                chat.events.append((EventKind.CLOSED, chat.closed_at))
        chats.append(chat)

    contacts = Contact.objects.bulk_create(
        Contact(organization=org, wa_id=f"4917{n:08d}", name=f"Customer {n}")
        for n in range(len(chats))
    )
    rows = Conversation.objects.bulk_create(
        Conversation(
            organization=org,
            project=chat.project,
            channel=channels[chat.project.pk],
            contact=contact,
            agent=chat.agent,
            status=(
                ConversationStatus.CLOSED
                if chat.closed_at
                else ConversationStatus.ASSIGNED
                if chat.agent
                else ConversationStatus.QUEUED
            ),
            created_at=chat.created_at,
            queued_at=chat.created_at,
            assigned_at=chat.events[0][1] if chat.events else None,
            closed_at=chat.closed_at,
        )
        for chat, contact in zip(chats, contacts, strict=True)
    )
    Message.objects.bulk_create(
        Message(
            conversation=row,
            channel_id=row.channel_id,
            direction=direction,
            status=MessageStatus.RECEIVED if direction == Direction.IN else MessageStatus.READ,
            text="…",
            sent_at=at,
            created_at=at,
        )
        for chat, row in zip(chats, rows, strict=True)
        for direction, at in chat.messages
    )
    ConversationEvent.objects.bulk_create(
        ConversationEvent(
            conversation=row,
            kind=kind,
            to_agent=chat.agent,
            created_at=at,
        )
        for chat, row in zip(chats, rows, strict=True)
        for kind, at in chat.events
    )
    return Month(supervisor, agents, with_sla, without_sla, chats)


@pytest.fixture
def month(db) -> Month:
    return seed_month()
