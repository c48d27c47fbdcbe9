"""Every read that serves a person stays inside that person's organization."""

from __future__ import annotations

import pytest

from conversations import selectors
from conversations.models import Role
from tests.factories import ConversationFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_supervisor_sees_every_conversation_of_their_organization_and_none_of_another():
    supervisor = MembershipFactory(role=Role.SUPERVISOR)
    agent = MembershipFactory(organization=supervisor.organization)
    ours = [
        ConversationFactory(channel__organization=supervisor.organization),
        ConversationFactory(channel__organization=supervisor.organization, agent=agent),
    ]
    ConversationFactory()  # another organization's

    assert set(selectors.visible_conversations(member=supervisor)) == set(ours)


def test_an_agent_sees_only_their_own_conversations():
    agent = MembershipFactory()
    colleague = MembershipFactory(organization=agent.organization)
    mine = ConversationFactory(channel__organization=agent.organization, agent=agent)
    ConversationFactory(channel__organization=agent.organization, agent=colleague)
    ConversationFactory(channel__organization=agent.organization)

    assert list(selectors.visible_conversations(member=agent)) == [mine]
    assert list(selectors.open_conversations_of(member=agent)) == [mine]


def test_projects_members_and_channels_are_scoped_to_the_organization():
    member = MembershipFactory(role=Role.ADMIN)
    ProjectFactory(organization=member.organization, name="Ours")
    ProjectFactory(name="Theirs")
    MembershipFactory()

    assert [p.name for p in selectors.member_projects(member=member)] == ["Ours"]
    assert list(selectors.member_members(member=member)) == [member]
    assert not selectors.member_channels(member=member).exists()
