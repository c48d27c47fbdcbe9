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
from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import connection, transaction
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


def _next_seqs(recipients: list[int]) -> dict[int, int]:
    """Take the next ``seq`` of each recipient's stream, making the stream if it is new.

    Each stream row stays locked until commit, so one member's events are numbered and
    committed one after the other; the rows are taken in the order given."""
    if connection.vendor == "postgresql":
        # One statement for everyone: the VALUES rows are inserted, or their existing row
        # locked and counted up, in the order listed.
        table = DockStream._meta.db_table
        rows = ", ".join(["(%s, 1)"] * len(recipients))
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{table}" ("membership_id", "last_seq") VALUES {rows} '
                'ON CONFLICT ("membership_id") '
                f'DO UPDATE SET "last_seq" = "{table}"."last_seq" + 1 '
                'RETURNING "membership_id", "last_seq"',
                recipients,
            )
            return dict(cursor.fetchall())
    seqs = {}
    for membership_id in recipients:
        if not DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1):
            DockStream.objects.get_or_create(membership_id=membership_id)
            DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1)
        seqs[membership_id] = DockStream.objects.values_list("last_seq", flat=True).get(
            pk=membership_id
        )
    return seqs


def publish(event_type: str, data: dict[str, Any], *, to: Iterable[int]) -> None:
    """Record ``event_type`` for every member in ``to`` and push it after commit."""
    recipients = sorted(set(to))  # a fixed order: two publishers never deadlock
    if not recipients:
        return
    # Inside the caller's transaction no savepoint: a failure here fails the caller's.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        seqs = _next_seqs(recipients)
        DockEvent.objects.bulk_create(
            DockEvent(
                membership_id=membership_id,
                seq=seqs[membership_id],
                type=event_type,
                data=data,
                created_at=now,
            )
            for membership_id in recipients
        )
        frames = [
            (membership_id, {"type": event_type, "seq": seqs[membership_id], "data": data})
            for membership_id in recipients
        ]
        transaction.on_commit(lambda: _send(frames))


def _send(frames: list[tuple[int, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # One trip into the event loop for all recipients: each trip costs more than a send.
    try:
        async_to_sync(_send_all)(layer, frames)
    except Exception:  # no way into a loop from here: the docks catch up on resync
        logger.warning("realtime sends failed", extra={"frames": len(frames)})


async def _send_all(layer: BaseChannelLayer, frames: list[tuple[int, dict[str, Any]]]) -> None:
    for membership_id, frame in frames:
        try:
            await layer.group_send(
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
