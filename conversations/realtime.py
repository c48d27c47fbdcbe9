"""The one way realtime events leave the server.

``publish`` gives each recipient's event the next ``seq`` of that member's stream and
stores it in the caller's transaction, then sends it to the member's Channels group
after commit. Stored events are what a reconnecting dock replays (``resync``); a send
that fails (the channel layer down) loses nothing, the dock catches up on its next
resync."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from conversations.models import DockEvent, DockStream, Membership, Role

logger = logging.getLogger(__name__)


def member_group(membership_id: int) -> str:
    return f"dock-member-{membership_id}"


def supervisor_ids(*, organization_id: int) -> list[int]:
    return list(
        Membership.objects.filter(
            organization_id=organization_id, role__in=[Role.SUPERVISOR, Role.ADMIN]
        ).values_list("pk", flat=True)
    )


def _next_seq(membership_id: int) -> int:
    # The UPDATE takes the stream row's lock until commit: one member's events are
    # numbered and committed one after the other.
    if not DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1):
        DockStream.objects.get_or_create(membership_id=membership_id)
        DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1)
    return DockStream.objects.values_list("last_seq", flat=True).get(pk=membership_id)


def publish(event_type: str, data: dict[str, Any], *, to: Iterable[int]) -> None:
    """Record ``event_type`` for every member in ``to`` and push it after commit."""
    recipients = sorted(set(to))  # a fixed order: two publishers never deadlock
    if not recipients:
        return
    frames: list[tuple[int, dict[str, Any]]] = []
    with transaction.atomic():
        now = timezone.now()
        for membership_id in recipients:
            seq = _next_seq(membership_id)
            DockEvent.objects.create(
                membership_id=membership_id, seq=seq, type=event_type, data=data, created_at=now
            )
            frames.append((membership_id, {"type": event_type, "seq": seq, "data": data}))
        transaction.on_commit(lambda: _send(frames))


def _send(frames: list[tuple[int, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for membership_id, frame in frames:
        try:
            async_to_sync(layer.group_send)(
                member_group(membership_id), {"type": "dock.event", "event": frame}
            )
        except Exception:  # the layer is down: the stored event is replayed on resync
            logger.warning(
                "realtime send failed", extra={"member": membership_id, "seq": frame["seq"]}
            )


def events_after(*, membership_id: int, after: int, limit: int = 1000) -> list[dict[str, Any]]:
    """The stored events a member's dock missed, in order."""
    rows = DockEvent.objects.filter(membership_id=membership_id, seq__gt=after).order_by("seq")[
        :limit
    ]
    return [{"type": r.type, "seq": r.seq, "data": r.data} for r in rows]


def last_seq(*, membership_id: int) -> int:
    return (
        DockStream.objects.filter(pk=membership_id).values_list("last_seq", flat=True).first() or 0
    )
