"""Presence write paths (routing issue). Signatures are fixed: callers use them as here."""

from __future__ import annotations

from conversations.models import Membership
from presence.models import AgentPresence


def presence_set(
    *, member: Membership, status: str, source: str, actor: Membership | None = None
) -> AgentPresence:
    """Set a member's presence; kept in the history, pushed to them and their supervisors,
    and routing is asked to act."""
    raise NotImplementedError


def dock_heartbeat(*, member: Membership) -> None:
    """A live dock connection of ``member`` says it is there (throttled writes)."""
    raise NotImplementedError
