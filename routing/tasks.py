"""Celery tasks of routing: thin, they take ids and call the router."""

from __future__ import annotations

from celery import Task, shared_task

from conversations import passes
from routing import router
from routing.triggers import ROUTING_PASS


@shared_task(bind=True, acks_late=True, max_retries=passes.BUSY_RETRIES)
def route_queue(self: Task, organization_id: int) -> None:
    passes.run_task(
        self,
        ROUTING_PASS,
        organization_id,
        lambda: router.route_queue(organization_id=organization_id),
    )


@shared_task
def sweep() -> None:
    """Run by beat every ``ROUTING_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``)."""
    router.sweep()
