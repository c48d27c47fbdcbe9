"""The replay: a seeded day run again through routing's rules with other staffings."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Role,
)
from reports.periods import Period
from reports.replay import replay
from tests.factories import ChannelFactory, MembershipFactory

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 3, 10, tzinfo=UTC)
PERIOD = Period(DAY, DAY + timedelta(days=1))


def seed_day(*, agents: int = 3, max_open: int = 2, per_hour: float = 12, handle_minutes=25):
    """A day of chats from 8:00 to 18:00, served first come first served by ``agents``
    with ``max_open`` places each, as a plain queue would have served them (worked out
    here, not by the replay): each chat takes the place that frees first."""
    rng = random.Random(10)
    channel = cast(Channel, ChannelFactory())
    org, project = channel.organization, channel.project
    staff = [
        cast(
            Membership,
            MembershipFactory(organization=org, projects=[project], max_open=max_open),
        )
        for _ in range(agents)
    ]
    places = [(DAY, staff[i % agents]) for i in range(agents * max_open)]
    at = DAY + timedelta(hours=8)
    waits = []
    while True:
        at += timedelta(seconds=rng.expovariate(per_hour / 3600))
        if at >= DAY + timedelta(hours=18):
            break
        handle = timedelta(seconds=max(60.0, rng.expovariate(1 / (handle_minutes * 60))))
        places.sort(key=lambda p: p[0])
        free_at, agent = places.pop(0)
        start = max(at, free_at)
        places.append((start + handle, agent))
        waits.append((start - at).total_seconds())
        contact = Contact.objects.create(organization=org, wa_id=f"49{len(waits):010d}")
        chat = Conversation.objects.create(
            organization=org,
            project=project,
            channel=channel,
            contact=contact,
            agent=agent,
            status=ConversationStatus.CLOSED,
            created_at=at,
            queued_at=at,
            assigned_at=start,
            closed_at=start + handle,
            language="en",
        )
        ConversationEvent.objects.bulk_create(
            [
                ConversationEvent(conversation=chat, kind=EventKind.ASSIGNED, created_at=start),
                ConversationEvent(
                    conversation=chat, kind=EventKind.CLOSED, created_at=start + handle
                ),
            ]
        )
    return org, project, staff, waits


def test_the_days_own_staffing_replays_its_recorded_mean_wait_within_a_fifth():
    org, project, _, waits = seed_day()
    recorded = sum(waits) / len(waits)
    assert recorded > 30, "the seeded day must make customers wait to test anything"

    answer = replay(
        organization_id=org.pk,
        project=project,
        period=PERIOD,
        staffings=[2, 3, 4, 5],
        target_wait_seconds=60,
        target_share=0.8,
    )

    assert answer["recorded"]["mean_wait_seconds"] == pytest.approx(recorded, abs=0.01)
    assert answer["recorded"]["agents"] == 3
    [as_it_was] = [r for r in answer["staffing"] if r["agents"] == 3]
    assert as_it_was["mean_wait_seconds"] == pytest.approx(recorded, rel=0.2)
    # More agents, shorter waits; the fewest that meet the target is named.
    means = [r["mean_wait_seconds"] for r in answer["staffing"]]
    assert means == sorted(means, reverse=True)
    shares = {r["agents"]: r["share_within_target"] for r in answer["staffing"]}
    needed = answer["agents_needed"]
    assert needed is not None and shares[needed] >= 0.8
    assert all(shares[n] < 0.8 for n in shares if n < needed)


def test_a_chat_in_a_language_no_agent_speaks_is_never_served():
    org, project, _, _ = seed_day(per_hour=2)
    first = Conversation.objects.filter(project=project).order_by("created_at")[0]
    Conversation.objects.filter(pk=first.pk).update(language="fi")

    answer = replay(
        organization_id=org.pk,
        project=project,
        period=PERIOD,
        staffings=[3],
        target_wait_seconds=60,
        target_share=0.8,
    )

    assert answer["staffing"][0]["never_served"] == 1


def test_a_project_without_agents_cannot_be_replayed():
    channel = cast(Channel, ChannelFactory())
    MembershipFactory(organization=channel.organization, role=Role.SUPERVISOR)
    with pytest.raises(ValueError, match="no members"):
        replay(
            organization_id=channel.organization_id,
            project=channel.project,
            period=PERIOD,
            staffings=[1],
            target_wait_seconds=60,
            target_share=0.8,
        )
