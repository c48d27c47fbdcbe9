"""How routing is asked to act: by the core's ``routing_requested`` (the core and
presence send it) and by routing's own moves; after commit, through Celery.

A pending pass of an organization's queue covers every request made before it starts,
so a burst of inbound messages enqueues one pass, not one per message, and one pass of
an organization walks its queue at a time (``conversations.passes``)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils.module_loading import import_string

from conversations.passes import PassKind, request

logger = logging.getLogger(__name__)

# The pass lock's first key is this, which no other lock of the project uses; the
# second is the organization's id.
ROUTING_LOCK_NAMESPACE = 0x524F5554
ROUTING_PASS = PassKind(
    name="routing", task="routing.tasks.route_queue", lock_namespace=ROUTING_LOCK_NAMESPACE
)


def on_routing_requested(*, organization_id: int, **kwargs: object) -> None:
    """The core's ``routing_requested``: it comes after the writer's commit."""
    request_routing(organization_id=organization_id)


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits. A request
    the broker cannot take is dropped: the periodic sweep routes whatever is still
    queued, so nothing waits forever."""
    request(ROUTING_PASS, organization_id)


# The task that passes on an offer whose time ran out, named: the task module imports
# the router, which asks for it.
EXPIRE_OFFER_TASK = "routing.tasks.expire_offer"


def expire_offer_at(*, conversation_id: int, at: datetime) -> None:
    """Once the caller commits, ask a worker to pass the offer on at ``at``. The offer's
    end is the row's ``offer_expires_at``, not this task: a task lost on the way (the
    broker down) costs only the sweep's interval (``routing.offers.offers_expire_due``)."""

    def enqueue() -> None:
        try:
            import_string(EXPIRE_OFFER_TASK).apply_async((conversation_id,), eta=at)
        except Exception as exc:
            logger.warning(
                "offer expiry not enqueued",
                extra={"conversation": conversation_id, "error": type(exc).__name__},
            )

    transaction.on_commit(enqueue)
