"""How routing is asked to act: by the core's ``routing_requested`` (the core and
presence send it) and by routing's own moves; after commit, through Celery.

A pending pass of an organization's queue covers every request made before it starts,
so a burst of inbound messages enqueues one pass, not one per message
(``conversations.pending``)."""

from __future__ import annotations

from conversations import pending


def _mark(organization_id: int) -> str:
    return pending.key("routing", organization_id)


def pass_started(*, organization_id: int) -> None:
    """Called as a pass starts: requests from now on need a pass of their own."""
    pending.release(_mark(organization_id))


def on_routing_requested(*, organization_id: int, **kwargs: object) -> None:
    """The core's ``routing_requested``: it comes after the writer's commit."""
    request_routing(organization_id=organization_id)


def request_routing(*, organization_id: int) -> None:
    """Route the organization's queue once the caller's transaction commits. A request
    the broker cannot take is dropped: the periodic sweep routes whatever is still
    queued, so nothing waits forever."""
    pending.enqueue_after_commit(
        _mark(organization_id), "routing.tasks.route_queue", organization_id
    )
