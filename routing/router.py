"""Inbound assignment (being built: see the routing issue)."""


def route_queue(*, organization_id: int) -> None:
    """Assign the organization's queued conversations to agents with room."""
