"""Presence: who takes chats now, kept in history, and never stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations.models import DockEvent, Role
from conversations.services import member_create
from presence.models import AgentPresence, PresenceChange, PresenceSource, PresenceStatus
from presence.services import dock_heartbeat, presence_expire_stale, presence_set
from tests.factories import MembershipFactory


@pytest.fixture
def agent(db):
    return MembershipFactory(presence=PresenceStatus.OFFLINE)


@pytest.fixture
def supervisor(agent):
    return MembershipFactory(organization=agent.organization, role=Role.SUPERVISOR)


def seen(agent, seconds_ago):
    AgentPresence.objects.filter(membership=agent).update(
        dock_seen_at=timezone.now() - timedelta(seconds=seconds_ago)
    )


def status_of(agent):
    return AgentPresence.objects.get(membership=agent).status


def test_every_change_is_kept_with_its_time_and_pushed_to_the_agent_and_supervisors(
    agent, supervisor
):
    before = timezone.now()
    presence_set(member=agent, status="available", source="dock")
    presence_set(member=agent, status="busy", source="api", actor=supervisor)

    history = list(PresenceChange.objects.filter(membership=agent).order_by("at", "id"))
    assert [(c.previous, c.status, c.source) for c in history] == [
        ("offline", "available", "dock"),
        ("available", "busy", "api"),
    ]
    assert history[1].actor == supervisor
    assert all(c.at >= before for c in history)
    for member in (agent, supervisor):
        pushed = DockEvent.objects.filter(membership=member, type="presence.changed")
        assert [e.data["status"] for e in pushed.order_by("seq")] == ["available", "busy"]
        assert pushed.first().data["member"] == agent.pk
        assert set(pushed.first().data) == {
            *("member", "status", "since", "source"),
            *("reason", "actor", "actor_name"),
        }


def test_setting_the_same_status_again_is_not_a_change(agent):
    presence_set(member=agent, status="available", source="dock")
    since = AgentPresence.objects.get(membership=agent).since

    presence_set(member=agent, status="available", source="dock")

    assert PresenceChange.objects.filter(membership=agent).count() == 1
    assert AgentPresence.objects.get(membership=agent).since == since


def test_an_unknown_status_is_refused_and_changes_nothing(agent):
    with pytest.raises(ValidationError):
        presence_set(member=agent, status="away", source="dock")
    assert status_of(agent) == PresenceStatus.OFFLINE
    assert not PresenceChange.objects.exists()


def test_an_agent_whose_dock_vanished_turns_offline_after_the_grace(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 60
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    presence_set(member=agent, status="available", source="dock")
    seen(agent, 60 + 20 + 1)

    assert presence_expire_stale() == 1

    assert status_of(agent) == PresenceStatus.OFFLINE
    change = PresenceChange.objects.filter(membership=agent).first()
    assert (change.previous, change.status, change.source) == (
        "available",
        "offline",
        PresenceSource.SYSTEM,
    )


def test_a_network_blip_shorter_than_the_grace_changes_nothing(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 60
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    presence_set(member=agent, status="busy", source="dock")
    seen(agent, 70)  # the last beat came within one interval plus the grace

    assert presence_expire_stale() == 0
    assert status_of(agent) == PresenceStatus.BUSY


def test_a_live_dock_is_never_dropped_even_with_a_grace_shorter_than_the_heartbeat(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 5
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    presence_set(member=agent, status="available", source="dock")
    seen(agent, 19)  # one beat is due any moment

    assert presence_expire_stale() == 0
    assert status_of(agent) == PresenceStatus.AVAILABLE


def test_a_heartbeat_keeps_the_dock_alive(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 60
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    presence_set(member=agent, status="available", source="dock")
    seen(agent, 500)

    dock_heartbeat(member=agent)

    assert presence_expire_stale() == 0
    assert status_of(agent) == PresenceStatus.AVAILABLE


def test_heartbeats_are_throttled(agent, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 20
    dock_heartbeat(member=agent)
    first = AgentPresence.objects.get(membership=agent).dock_seen_at

    dock_heartbeat(member=agent)

    assert AgentPresence.objects.get(membership=agent).dock_seen_at == first


def test_presence_set_through_the_api_stays_as_set_without_a_dock(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 1
    presence_set(member=agent, status="available", source="dock")
    presence_set(member=agent, status="available", source="api")
    seen(agent, 10_000)

    assert presence_expire_stale() == 0
    assert status_of(agent) == PresenceStatus.AVAILABLE


def test_an_offline_agent_is_not_expired_again(agent, settings):
    settings.PRESENCE_DISCONNECT_GRACE_SECONDS = 1
    presence_set(member=agent, status="offline", source="dock")
    seen(agent, 10_000)

    assert presence_expire_stale() == 0


def test_a_presence_change_finds_the_supervisors_in_the_statement_that_stores_its_events(
    agent, supervisor
):
    """Lock the member and their presence, write it and its history entry, then one
    statement that finds the supervisors, numbers and stores the events, and one read of
    the webhook subscriptions that want them; the two ends of the transaction (here a
    savepoint's). Each more is a round trip on every change."""
    with CaptureQueriesContext(connection) as statements:
        presence_set(member=agent, status="available", source="dock")

    assert len(statements) == 8, [q["sql"][:80] for q in statements.captured_queries]
    assert DockEvent.objects.filter(membership=supervisor, type="presence.changed").exists()


def test_a_member_made_by_the_core_starts_offline_with_a_presence_of_their_own(db):
    organization = MembershipFactory().organization
    member = member_create(
        organization=organization, email="new.agent@example.com", password="a-long-passphrase-9"
    )

    presence = AgentPresence.objects.get(membership=member)
    assert (presence.status, presence.source) == (PresenceStatus.OFFLINE, PresenceSource.SYSTEM)
