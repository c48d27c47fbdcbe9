"""How the rest of the product asks routing to act: after commit, through Celery.

A pending pass of an organization's queue covers every request made before it starts,
so a burst of inbound messages enqueues one pass, not one per message
(``cxgear.pending``)."""

from __future__ import annotations

import logging

from django.db import transaction

from cxgear import pending

logger = logging.getLogger(__name__)


def _mark(organization_id: int) -> str:
    return pending.key("routing", organization_id)


def pass_started(*, organization_id: int) -> None:
    """Called as a pass starts: requests from now on need a pass of their own."""
    pending.release(_mark(organization_id))


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits.

    If the broker cannot be reached the request is dropped with a warning: the periodic
    sweep routes whatever is still queued, so nothing waits forever."""

    def enqueue() -> None:
        from routing.tasks import route_queue

        try:
            if pending.claim(_mark(organization_id)):
                route_queue.delay(organization_id)
        except Exception:
            logger.warning("routing request not enqueued", extra={"org": organization_id})

    transaction.on_commit(enqueue)
