"""How the rest of the product asks routing to act: after commit, through Celery.

A pending pass of an organization's queue covers every request made before it starts,
so a burst of inbound messages enqueues one pass, not one per message, and one pass of
an organization walks its queue at a time (``cxgear.passes``)."""

from __future__ import annotations

from cxgear.passes import PassKind, request

# The pass lock's first key is this, which no other lock of the project uses; the
# second is the organization's id.
ROUTING_PASS = PassKind(name="routing", lock_namespace=0x524F5554, task="routing.tasks.route_queue")


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits. A request
    the broker cannot take is dropped: the periodic sweep routes whatever is still
    queued, so nothing waits forever."""
    request(ROUTING_PASS, organization_id)
