"""An offer that runs out passes on within a second of its time, with a real Celery
worker: the task the offer enqueued with its end as ``eta`` does it, not the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.models import Conversation, ConversationEvent, ConversationStatus, EventKind
from routing.offers import OfferGone, offer_accept
from routing.triggers import request_routing
from tests.celery_worker import celery_worker, wait_until  # noqa: F401

OFFER_SECONDS = 2


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # The sweep comes too late to pass an offer on in time: only the task can.
    return {"ROUTING_SWEEP_SECONDS": "60"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_offer_nobody_answers_passes_to_the_next_agent_within_a_second_of_its_time(
    desk,
    celery_worker,  # noqa: F811
):
    desk.project.offer_timeout_seconds = OFFER_SECONDS
    desk.project.save(update_fields=["offer_timeout_seconds"])
    agents = {a.pk: a for a in (desk.agent(), desk.agent())}
    chat = desk.chat()
    request_routing(organization_id=desk.org.pk)

    def offered_to():
        """the chat is offered"""
        row = Conversation.objects.filter(pk=chat.pk, status=ConversationStatus.OFFERED).values(
            "offered_to_id", "offer_expires_at"
        )
        first = row.first()
        if first is None:
            return None
        return first["offered_to_id"], first["offer_expires_at"]

    first, expires = wait_until(offered_to, timeout=60, interval=0.05)

    def offered_to_the_other():
        """the chat is offered to the other agent"""
        now = offered_to()
        return now if now and now[0] != first else None

    second, _ = wait_until(offered_to_the_other, timeout=OFFER_SECONDS + 10, interval=0.05)

    expired = ConversationEvent.objects.get(conversation=chat, kind=EventKind.OFFER_EXPIRED)
    offered_again = ConversationEvent.objects.filter(
        conversation=chat, kind=EventKind.OFFERED
    ).last()
    assert expires <= expired.created_at < expires + timedelta(seconds=1)
    assert offered_again.created_at < expires + timedelta(seconds=1)
    assert expired.from_agent_id == first and offered_again.to_agent_id == second

    with pytest.raises(OfferGone):
        offer_accept(conversation_id=chat.pk, member=agents[first])
    offer_accept(conversation_id=chat.pk, member=agents[second])
    chat.refresh_from_db()
    assert (chat.status, chat.agent_id) == ("assigned", second)
