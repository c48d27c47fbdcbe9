"""A seeded month of one organization's chats, written straight to the tables, and the
same month kept as plain records so a test can work a figure out by hand. The
conversations carry the first-reply facts the core would have recorded of them."""

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
from conversations.sla import sla_breaches_sweep
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


def first_reply_facts(chat: Chat) -> dict[str, datetime | None]:
    """What the core records of ``chat``'s first reply as its messages are stored one by
    one (``conversations.messaging``): the customer's first message starts the clock and
    sets the deadline when the project has a target; the first outbound message stored
    after it is the first reply, and a late one records the breach. The breaches of chats
    never answered are the sweep's (``seed_month``)."""
    inbound = [at for direction, at in chat.messages if direction == Direction.IN]
    if not inbound:
        return {}
    started = min(inbound)
    target = chat.project.sla_first_reply_seconds
    due = started + timedelta(seconds=target) if target else None
    replied = min(
        (at for direction, at in chat.messages if direction == Direction.OUT and at > started),
        default=None,
    )
    late = due is not None and replied is not None and replied > due
    return {
        "last_inbound_at": max(inbound),
        "first_inbound_at": started,
        "sla_due_at": due,
        "first_reply_at": replied,
        "sla_breached_at": replied if late else None,
    }


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
            **first_reply_facts(chat),
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
    # The breaches of the chats left unanswered past their deadline, by the core's sweep.
    sla_breaches_sweep()
    return Month(supervisor, agents, with_sla, without_sla, chats)


@pytest.fixture
def month(db) -> Month:
    return seed_month()
