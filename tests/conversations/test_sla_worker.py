"""With a real Celery worker and beat: a chat left unanswered is breached at its
deadline by the check scheduled for it, with no sweep to help."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.events import EventType
from conversations.models import Conversation, DockEvent, Role
from tests.celery_worker import celery_worker, wait_until  # noqa: F401
from tests.conversations.test_sla import customer_writes
from tests.factories import ChannelFactory, MembershipFactory


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # Beat sweeps once as it starts, before any deadline, then not again in this test.
    return {"ROUTING_SWEEP_SECONDS": "3600"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_check_scheduled_at_the_deadline_records_the_breach(celery_worker):  # noqa: F811
    supervisor = MembershipFactory(role=Role.SUPERVISOR)
    channel = ChannelFactory(
        organization=supervisor.organization, project__sla_first_reply_seconds=2
    )

    customer_writes(channel)

    chat = Conversation.objects.get()

    def breached():
        """the unanswered chat's breach is recorded"""
        chat.refresh_from_db()
        return chat.sla_breached_at

    breached_at = wait_until(breached, timeout=20)
    assert chat.sla_due_at <= breached_at < chat.sla_due_at + timedelta(seconds=5)
    assert DockEvent.objects.filter(membership=supervisor, type=EventType.SLA_BREACHED).count() == 1
