"""Who a supervisor may hand a conversation to, as the board's assign and reassign lists
show them: the rules of ``conversation_transfer`` read ahead of the move, so the list
offers no one the move would refuse (the move itself decides, under its locks)."""

from __future__ import annotations

from dataclasses import dataclass

from conversations import selectors
from conversations.models import WORKING_ROLES, Conversation, Membership
from presence.models import PresenceStatus
from routing.router import ineligibility


@dataclass(frozen=True)
class Candidate:
    member: Membership
    presence: str
    open_count: int

    @property
    def max_open(self) -> int:
        return self.member.max_open

    @property
    def over_capacity(self) -> bool:
        """Taking one more chat puts them over their maximum: a supervisor confirms it."""
        return self.open_count >= self.max_open


def transfer_candidates(*, conversation: Conversation, member: Membership) -> list[Candidate]:
    """The colleagues who can take ``conversation`` now: not Offline (Available, or Busy
    for a supervisor's move), in its project, speaking its language, with its skills;
    not the agent who has it. By load, then name."""
    people = (
        selectors.member_members(member=member)
        .filter(role__in=WORKING_ROLES, user__is_active=True)
        .exclude(pk=conversation.agent_id or 0)
        .order_by("user__name", "user__email")
    )
    found = []
    for person in people:
        presence = getattr(getattr(person, "presence", None), "status", PresenceStatus.OFFLINE)
        if presence == PresenceStatus.OFFLINE or ineligibility(person, conversation):
            continue
        found.append(
            Candidate(member=person, presence=presence, open_count=person.open_conversations)
        )
    return sorted(found, key=lambda c: (c.over_capacity, c.open_count / max(c.max_open, 1)))
