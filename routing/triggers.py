"""How routing is asked to act: by the core's ``routing_requested`` (the core and
presence send it) and by routing's own moves; after commit, through Celery.

A pending pass of an organization's queue covers every request made before it starts,
so a burst of inbound messages enqueues one pass, not one per message, and one pass of
an organization walks its queue at a time (``conversations.passes``)."""

from __future__ import annotations

from conversations.passes import PassKind, request

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
