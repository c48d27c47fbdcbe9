"""Two organizations with the same shape, so every API call can be tried on one's own
objects and on another's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations.models import Channel, Conversation, Membership, Project, Role
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
    ProjectFactory,
)


@dataclass
class Org:
    admin: Membership
    supervisor: Membership
    agent: Membership
    colleague: Membership
    project: Project
    channel: Channel
    mine: Conversation  # assigned to ``agent``
    theirs: Conversation  # assigned to ``colleague``
    queued: Conversation

    def member(self, role: str) -> Membership:
        return {"agent": self.agent, "supervisor": self.supervisor, "admin": self.admin}[role]


def build_org(name: str) -> Org:
    admin = cast(
        Membership, MembershipFactory(role=Role.ADMIN, organization__name=name, max_open=0)
    )
    organization = admin.organization
    project = cast(
        Project, ProjectFactory(organization=organization, name=f"{name} spring campaign")
    )
    channel = cast(Channel, ChannelFactory(organization=organization, project=project))
    supervisor = cast(
        Membership,
        MembershipFactory(organization=organization, role=Role.SUPERVISOR, projects=[project]),
    )
    agent = cast(Membership, MembershipFactory(organization=organization, projects=[project]))
    colleague = cast(Membership, MembershipFactory(organization=organization, projects=[project]))
    mine = cast(Conversation, ConversationFactory(channel=channel, agent=agent))
    MessageFactory(conversation=mine, text=f"Hello from a customer of {name}")
    theirs = cast(Conversation, ConversationFactory(channel=channel, agent=colleague))
    queued = cast(Conversation, ConversationFactory(channel=channel))
    return Org(admin, supervisor, agent, colleague, project, channel, mine, theirs, queued)


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    # Each member signs in with a password; the production hasher's cost would dominate
    # these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ours(db) -> Org:
    return build_org("Ours")


@pytest.fixture
def others(db) -> Org:
    return build_org("Others")


def token_client(member: Membership) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=member.user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_member():
    return token_client
