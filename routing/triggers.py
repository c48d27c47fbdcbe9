"""How the rest of the product asks routing to act: after commit, through Celery."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits.

    If the broker cannot be reached the request is dropped with a warning: the periodic
    sweep routes whatever is still queued, so nothing waits forever."""

    def enqueue() -> None:
        from routing.tasks import route_queue

        try:
            route_queue.delay(organization_id)
        except Exception:
            logger.warning("routing request not enqueued", extra={"org": organization_id})

    transaction.on_commit(enqueue)
