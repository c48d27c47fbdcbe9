"""The whole loop with a real Celery worker and beat: a dock vanishes, its agent turns
Offline after the grace, and their chats go to others after the reassignment time."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, ConversationEvent, EventKind, Rule
from presence.models import AgentPresence, PresenceChange, PresenceSource, PresenceStatus
from presence.services import dock_heartbeat, presence_set
from tests.celery_worker import celery_worker, wait_until  # noqa: F401


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    return {
        "PRESENCE_HEARTBEAT_SECONDS": "1",
        "PRESENCE_DISCONNECT_GRACE_SECONDS": "2",
        "ROUTING_OFFLINE_REASSIGN_SECONDS": "3",
        "ROUTING_SWEEP_SECONDS": "1",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_vanished_dock_turns_its_agent_offline_and_their_chats_go_to_others(
    desk,
    celery_worker,  # noqa: F811
):
    leaving = desk.agent(presence=PresenceStatus.OFFLINE)
    # Set through the API by an integrator: no dock, so it stays as set.
    colleague = desk.agent(presence=PresenceStatus.OFFLINE, max_open=5)
    presence_set(member=colleague, status=PresenceStatus.AVAILABLE, source=PresenceSource.API)
    # The dock connects, says Available and beats once; then its connection vanishes.
    presence_set(member=leaving, status=PresenceStatus.AVAILABLE, source=PresenceSource.DOCK)
    dock_heartbeat(member=leaving)
    chats = desk.open_chats(leaving, 2)

    def leaving_is_offline():
        """the agent whose dock vanished is Offline"""
        return AgentPresence.objects.get(membership=leaving).status == PresenceStatus.OFFLINE

    wait_until(leaving_is_offline, timeout=60)
    went = PresenceChange.objects.filter(membership=leaving).first()
    assert (went.previous, went.status, went.source) == ("available", "offline", "system")

    def chats_moved():
        """both chats are with the colleague"""
        agents = set(
            Conversation.objects.filter(pk__in=[c.pk for c in chats]).values_list(
                "agent_id", flat=True
            )
        )
        return agents == {colleague.pk}

    wait_until(chats_moved, timeout=60)
    for chat in chats:
        reassigned = ConversationEvent.objects.get(conversation=chat, kind=EventKind.REASSIGNED)
        assert reassigned.rule == Rule.REASSIGNED_AFTER_OFFLINE
        assert reassigned.from_agent_id == leaving.pk
        assert reassigned.created_at >= went.at
        assigned = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
        assert assigned.to_agent_id == colleague.pk
    assert AgentPresence.objects.get(membership=colleague).status == PresenceStatus.AVAILABLE
