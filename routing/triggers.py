"""How the rest of the product asks routing to act: after commit, through Celery."""

from __future__ import annotations

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

# A pending pass of an organization's queue covers every request made before it starts,
# so a burst of inbound messages enqueues one pass, not one per message. The key is
# dropped when the pass starts; the expiry only matters if a pass is lost, and the
# sweep covers that case anyway.
PENDING_TTL_SECONDS = 30
PENDING_KEY_PREFIX = "cxgear:routing-pending:"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _pending_key(organization_id: int) -> str:
    return f"{PENDING_KEY_PREFIX}{organization_id}"


def _claim_pass(organization_id: int) -> bool:
    """True when no pass of this queue is waiting to start (so one must be enqueued)."""
    if settings.EMBEDDED:
        return True
    return bool(_redis().set(_pending_key(organization_id), 1, nx=True, ex=PENDING_TTL_SECONDS))


def pass_started(*, organization_id: int) -> None:
    """Called as a pass starts: requests from now on need a pass of their own. Without
    Redis the mark expires by itself; the pass goes on regardless."""
    if settings.EMBEDDED:
        return
    try:
        _redis().delete(_pending_key(organization_id))
    except redis.RedisError:
        logger.warning("routing pass mark not cleared", extra={"org": organization_id})


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits.

    If the broker cannot be reached the request is dropped with a warning: the periodic
    sweep routes whatever is still queued, so nothing waits forever."""

    def enqueue() -> None:
        from routing.tasks import route_queue

        try:
            if _claim_pass(organization_id):
                route_queue.delay(organization_id)
        except Exception:
            logger.warning("routing request not enqueued", extra={"org": organization_id})

    transaction.on_commit(enqueue)
