"""Busy carries a reason from the organization's list; a supervisor's hand on presence
and on capacity reaches the agent's dock, naming them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from conversations.models import DockEvent, Role
from conversations.services import member_update, organization_create
from presence.models import (
    DEFAULT_BUSY_REASONS,
    AgentPresence,
    BusyReason,
    PresenceChange,
    PresenceSource,
    PresenceStatus,
)
from presence.services import busy_reason_find, presence_set
from tests.factories import MembershipFactory, OrganizationFactory


@pytest.fixture
def agent(db):
    return MembershipFactory(user__name="Ana Agent", max_open=7)


@pytest.fixture
def supervisor(agent):
    return MembershipFactory(
        organization=agent.organization, role=Role.SUPERVISOR, user__name="Sam Supervisor"
    )


@pytest.fixture
def reasons(agent):
    return {
        name: BusyReason.objects.create(organization=agent.organization, name=name, position=n)
        for n, name in enumerate(("Break", "Training"))
    }


def test_a_new_organization_starts_with_the_default_reasons(db):
    admin = organization_create(
        name="New", admin_email="new-admin@example.test", admin_password="a long passphrase 9"
    )

    names = list(
        BusyReason.objects.filter(organization=admin.organization).values_list("name", flat=True)
    )
    assert names == list(DEFAULT_BUSY_REASONS)


def test_the_busy_reason_is_recorded_in_the_history_and_pushed(agent, supervisor, reasons):
    presence = presence_set(
        member=agent, status=PresenceStatus.BUSY, source="dock", reason=reasons["Break"]
    )

    assert presence.reason == reasons["Break"]
    change = PresenceChange.objects.get(membership=agent, status=PresenceStatus.BUSY)
    assert (change.reason, change.reason_name) == (reasons["Break"], "Break")
    for member in (agent, supervisor):
        pushed = DockEvent.objects.get(membership=member, type="presence.changed")
        assert (pushed.data["status"], pushed.data["reason"]) == ("busy", "Break")


def test_a_new_reason_while_busy_is_a_change_and_its_time_starts_again(agent, reasons):
    first = presence_set(
        member=agent, status=PresenceStatus.BUSY, source="dock", reason=reasons["Break"]
    )
    since = first.since

    second = presence_set(
        member=agent, status=PresenceStatus.BUSY, source="dock", reason=reasons["Training"]
    )

    assert second.since > since
    history = PresenceChange.objects.filter(membership=agent).order_by("at", "id")
    assert [c.reason_name for c in history] == ["Break", "Training"]


def test_a_renamed_reason_keeps_its_old_name_in_the_history(agent, reasons):
    presence_set(member=agent, status=PresenceStatus.BUSY, source="dock", reason=reasons["Break"])
    BusyReason.objects.filter(pk=reasons["Break"].pk).update(name="Pause")

    assert PresenceChange.objects.get(membership=agent).reason_name == "Break"


def test_a_reason_goes_only_with_busy_and_only_of_ones_own_organization(agent, reasons):
    with pytest.raises(ValidationError, match="only with busy"):
        presence_set(
            member=agent, status=PresenceStatus.AVAILABLE, source="dock", reason=reasons["Break"]
        )
    elsewhere = BusyReason.objects.create(organization=OrganizationFactory(), name="Nap")
    with pytest.raises(ValidationError):
        presence_set(member=agent, status=PresenceStatus.BUSY, source="dock", reason=elsewhere)
    assert not PresenceChange.objects.filter(membership=agent).exists()


@pytest.mark.parametrize("value", ["break", " Break ", "BREAK"])
def test_a_reason_is_found_by_its_name_in_any_case_or_by_its_id(agent, reasons, value):
    org = agent.organization_id
    assert busy_reason_find(organization_id=org, value=value) == reasons["Break"]
    assert busy_reason_find(organization_id=org, value=reasons["Break"].pk) == reasons["Break"]
    assert (
        busy_reason_find(organization_id=org, value=str(reasons["Break"].pk)) == (reasons["Break"])
    )


def test_an_unknown_or_inactive_reason_is_refused_naming_the_list(agent, reasons):
    BusyReason.objects.filter(pk=reasons["Training"].pk).update(active=False)
    for value in ("Nap", "Training", 10**20, True, ""):
        with pytest.raises(ValidationError):
            busy_reason_find(organization_id=agent.organization_id, value=value)


def test_a_supervisor_setting_an_agent_offline_is_named_on_the_agents_dock(agent, supervisor):
    presence_set(
        member=agent,
        status=PresenceStatus.OFFLINE,
        source=PresenceSource.SUPERVISOR,
        actor=supervisor,
    )
    AgentPresence.objects.filter(membership=agent).update(status=PresenceStatus.AVAILABLE)

    pushed = DockEvent.objects.get(membership=agent, type="presence.changed")
    assert pushed.data["source"] == "supervisor"
    assert (pushed.data["actor"], pushed.data["actor_name"]) == (supervisor.pk, "Sam Supervisor")


def test_the_agents_own_change_names_nobody(agent):
    presence_set(member=agent, status=PresenceStatus.BUSY, source="dock", actor=agent)

    pushed = DockEvent.objects.get(membership=agent, type="presence.changed")
    assert (pushed.data["actor"], pushed.data["actor_name"]) == (None, None)


def test_a_capacity_change_is_pushed_to_the_agent_with_their_open_count(agent, supervisor):
    member_update(member=agent, actor=supervisor, max_open=9)

    for member in (agent, supervisor):
        pushed = DockEvent.objects.get(membership=member, type="member.updated")
        assert (pushed.data["id"], pushed.data["max_open"]) == (agent.pk, 9)
        assert pushed.data["open_count"] == 0
