"""Celery tasks of routing: thin, they take ids and call the router."""

from __future__ import annotations

from celery import Task, shared_task
from django.utils import timezone

from conversations import passes
from routing import offers, router
from routing.triggers import ROUTING_PASS


@shared_task(bind=True, acks_late=True, max_retries=passes.BUSY_RETRIES)
def route_queue(self: Task, organization_id: int) -> None:
    passes.run_task(
        self,
        ROUTING_PASS,
        organization_id,
        lambda: router.route_queue(organization_id=organization_id),
    )


@shared_task(bind=True, acks_late=True)
def expire_offer(self: Task, conversation_id: int) -> None:
    """Pass on an offer when its time runs out (enqueued with that ``eta`` as the offer
    was made). A task that comes a moment early, by the clocks of the broker and the
    database, comes back at the offer's end; run eagerly (tests) it does not wait."""
    if offers.offer_expire(conversation_id=conversation_id):
        return
    expires = offers.offer_expires_at(conversation_id=conversation_id)
    if expires is not None and expires > timezone.now() and not self.request.is_eager:
        self.apply_async((conversation_id,), eta=expires)


@shared_task
def sweep() -> None:
    """Run by beat every ``ROUTING_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``): offers
    whose task was lost, then the router's own sweep."""
    offers.offers_expire_due()
    router.sweep()
