"""Celery tasks of routing: thin, they take ids and call the router."""

from __future__ import annotations

from celery import shared_task

from routing import router
from routing.triggers import pass_started


@shared_task(acks_late=True)
def route_queue(organization_id: int) -> None:
    pass_started(organization_id=organization_id)
    router.route_queue(organization_id=organization_id)


@shared_task
def sweep() -> None:
    """Run by beat every ``ROUTING_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``)."""
    router.sweep()
