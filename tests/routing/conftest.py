from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from django.utils import timezone

from conversations.models import (
    Channel,
    Conversation,
    ConversationStatus,
    Membership,
    Organization,
    Project,
    Role,
)
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory


@dataclass
class Desk:
    """One organization with one project on one channel, and a supervisor watching."""

    org: Organization
    project: Project
    channel: Channel
    supervisor: Membership

    def agent(self, **kwargs: Any) -> Membership:
        kwargs.setdefault("projects", [self.project])
        return cast(Membership, MembershipFactory(organization=self.org, **kwargs))

    def chat(self, *, ago: float = 0, **kwargs: Any) -> Conversation:
        """A queued chat that arrived ``ago`` seconds ago."""
        kwargs.setdefault("queued_at", timezone.now() - timedelta(seconds=ago))
        return cast(Conversation, ConversationFactory(channel=self.channel, **kwargs))

    def open_chats(self, agent: Membership, n: int) -> list[Conversation]:
        return [
            cast(Conversation, ConversationFactory(channel=self.channel, agent=agent))
            for _ in range(n)
        ]

    def miscounted(self) -> dict[int, tuple[int, int]]:
        """Members whose ``open_conversations`` is not their number of assigned chats:
        ``{member id: (counter, assigned chats)}`` (empty: every counter is true)."""
        assigned = Counter(
            Conversation.objects.filter(
                organization=self.org, status=ConversationStatus.ASSIGNED
            ).values_list("agent_id", flat=True)
        )
        return {
            pk: (counter, assigned[pk])
            for pk, counter in Membership.objects.filter(organization=self.org).values_list(
                "pk", "open_conversations"
            )
            if counter != assigned[pk]
        }

    def closed_chat(self, *, contact: Any, agent: Membership, hours_ago: float) -> Conversation:
        closed_at = timezone.now() - timedelta(hours=hours_ago)
        return cast(
            Conversation,
            ConversationFactory(
                channel=self.channel,
                contact=contact,
                agent=agent,
                status=ConversationStatus.CLOSED,
                assigned_at=closed_at - timedelta(minutes=10),
                closed_at=closed_at,
            ),
        )


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Routing tests make many members; their passwords need not resist cracking."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def desk(db: None) -> Desk:
    channel = cast(Channel, ChannelFactory())
    supervisor = cast(
        Membership,
        MembershipFactory(organization=channel.organization, role=Role.SUPERVISOR, max_open=0),
    )
    return Desk(channel.organization, channel.project, channel, supervisor)
