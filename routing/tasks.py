"""Celery tasks of routing: thin, they take ids and call the router."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from routing import router
from routing.triggers import pass_started

logger = logging.getLogger(__name__)

# A pass asked for while another pass of the organization walks its queue comes back this
# much later, its mark still set, so requests meanwhile enqueue nothing more. After
# BUSY_RETRIES such returns (a minute) it gives up and the sweep routes what is left.
BUSY_RETRY_SECONDS = 0.2
BUSY_RETRIES = 300


@shared_task(bind=True, acks_late=True, max_retries=BUSY_RETRIES)
def route_queue(self: Task, organization_id: int) -> None:
    with router.organization_pass(organization_id) as ours:
        # Run eagerly (the test suite's tasks) there is no worker to come back later: the
        # pass walks the queue beside the other one, which is safe.
        if not ours and not self.request.is_eager:
            if self.request.retries >= BUSY_RETRIES:
                logger.info("pass left to the sweep", extra={"org": organization_id})
                return
            raise self.retry(countdown=BUSY_RETRY_SECONDS)
        pass_started(organization_id=organization_id)
        router.route_queue(organization_id=organization_id)


@shared_task
def sweep() -> None:
    """Run by beat every ``ROUTING_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``)."""
    router.sweep()
