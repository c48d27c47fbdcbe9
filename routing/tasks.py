"""Celery tasks of routing: thin, they take ids and call the router."""

from __future__ import annotations

from celery import Task, shared_task

from conversations import passes
from routing import holds, router
from routing.triggers import ROUTING_PASS


@shared_task(bind=True, acks_late=True, max_retries=passes.BUSY_RETRIES)
def route_queue(self: Task, organization_id: int) -> None:
    passes.run_task(
        self,
        ROUTING_PASS,
        organization_id,
        lambda: _walk(organization_id),
    )


def _walk(organization_id: int) -> None:
    """A pass: the chats waiting for a colleague first (``routing.holds``), then the queue."""
    holds.holds_place(organization_id=organization_id)
    router.route_queue(organization_id=organization_id)


@shared_task
def sweep() -> None:
    """Run by beat every ``ROUTING_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``)."""
    holds.holds_sweep()
    router.sweep()
