"""The one way realtime events leave the server.

``publish`` gives each recipient's event the next ``seq`` of that member's stream and
stores it in the caller's transaction, then sends it to the member's Channels group
after commit. Stored events are what a reconnecting dock replays (``resync``); a send
that fails (the channel layer down) loses nothing, the dock catches up on its next
resync."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from conversations.models import DockEvent, DockStream, Membership, Role
from conversations.rows import column_of, field_of, table_of

logger = logging.getLogger(__name__)

# How long a commit's caller waits for its sends to reach the layer. A healthy send takes
# milliseconds; past this the layer is taken as unreachable and the docks catch up on
# their next resync instead of the caller waiting on them.
SEND_TIMEOUT_SECONDS = 2.0

Frames = list[tuple[int, dict[str, Any]]]


def member_group(membership_id: int) -> str:
    return f"dock-member-{membership_id}"


# Who hears every event of an organization: its supervisors and admins.
SUPERVISING_ROLES = (Role.SUPERVISOR.value, Role.ADMIN.value)


def _supervisors(organization_id: int) -> QuerySet[Membership, int]:
    return Membership.objects.filter(
        organization_id=organization_id, role__in=SUPERVISING_ROLES
    ).values_list("pk", flat=True)


@cache
def _one_statement(with_supervisors: bool) -> str:
    """``_record_in_one_statement``'s SQL, written once: building the supervisors' query
    on every publish cost more CPU than PostgreSQL spent running the whole statement."""
    events = DockEvent._meta.db_table
    streams = DockStream._meta.db_table
    sources = ["(SELECT unnest(%s::bigint[]))"]
    if with_supervisors:
        sources.append(
            f"(SELECT {column_of(Membership._meta.pk)} FROM {table_of(Membership)}"
            f" WHERE {column_of(field_of(Membership, 'organization'))} = %s"
            f" AND {column_of(field_of(Membership, 'role'))} = ANY(%s))"
        )
    return (
        f"WITH recipient (id) AS ({' UNION '.join(sources)}), "
        f'seq AS (INSERT INTO "{streams}" ("membership_id", "last_seq") '
        "SELECT id, 1 FROM recipient ORDER BY id "
        'ON CONFLICT ("membership_id") '
        f'DO UPDATE SET "last_seq" = "{streams}"."last_seq" + 1 '
        'RETURNING "membership_id", "last_seq") '
        f'INSERT INTO "{events}" ("membership_id", "seq", "type", "data", "created_at") '
        'SELECT "membership_id", "last_seq", %s, %s, %s FROM seq '
        'RETURNING "membership_id", "seq"'
    )


def _record_in_one_statement(
    event_type: str,
    data: dict[str, Any],
    members: list[int],
    supervisors_of: int | None,
) -> dict[int, int]:
    """PostgreSQL: find the supervisors, take every recipient's next ``seq`` and store the
    events in one statement, so a publish is one round trip. The stream rows are inserted,
    or their existing row locked and counted up, by member id ascending."""
    params: list[Any] = [members]
    if supervisors_of is not None:
        params += [supervisors_of, list(SUPERVISING_ROLES)]
    params += [
        event_type,
        DockEvent._meta.get_field("data").get_db_prep_value(data, connection),
        timezone.now(),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_one_statement(supervisors_of is not None), params)
        return dict(cursor.fetchall())


def _record_row_by_row(
    event_type: str,
    data: dict[str, Any],
    members: list[int],
    supervisors_of: int | None,
) -> dict[int, int]:
    """Other databases (SQLite, one writer at a time): the same, a statement at a time."""
    recipients = set(members)
    if supervisors_of is not None:
        recipients.update(_supervisors(supervisors_of))
    seqs = {}
    for membership_id in sorted(recipients):
        if not DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1):
            DockStream.objects.get_or_create(membership_id=membership_id)
            DockStream.objects.filter(pk=membership_id).update(last_seq=F("last_seq") + 1)
        seqs[membership_id] = DockStream.objects.values_list("last_seq", flat=True).get(
            pk=membership_id
        )
    now = timezone.now()
    DockEvent.objects.bulk_create(
        DockEvent(membership_id=m, seq=seq, type=event_type, data=data, created_at=now)
        for m, seq in seqs.items()
    )
    return seqs


def publish(
    event_type: str,
    data: dict[str, Any],
    *,
    to: Iterable[int],
    supervisors_of: int | None = None,
) -> None:
    """Record ``event_type`` for every member in ``to`` (and, with ``supervisors_of``,
    every supervisor and admin of that organization) and push it after commit. Each
    member's stream row stays locked until commit, so one member's events are numbered
    and committed one after the other; the rows are taken by member id ascending, so two
    publishers never deadlock."""
    members = sorted(set(to))
    if not members and supervisors_of is None:
        return
    record = _record_in_one_statement if connection.vendor == "postgresql" else _record_row_by_row
    # Inside the caller's transaction no savepoint: a failure here fails the caller's.
    with transaction.atomic(savepoint=False):
        seqs = record(event_type, data, members, supervisors_of)
        frames = [
            (membership_id, {"type": event_type, "seq": seq, "data": data})
            for membership_id, seq in sorted(seqs.items())
        ]
        if frames:
            transaction.on_commit(lambda: _send(frames))


@dataclass(frozen=True)
class _SendLoop:
    """An event loop running in a daemon thread of the process that started it."""

    pid: int
    loop: asyncio.AbstractEventLoop


_send_loop: _SendLoop | None = None
_send_loop_starting = threading.Lock()


def _process_loop() -> asyncio.AbstractEventLoop:
    """This process's send loop, started on first use. channels-redis keeps its Redis
    connections per event loop: ``async_to_sync`` outside a loop (a Celery task, a sync
    process) would make a new loop, and new connections, for every commit. A forked
    child (a Celery prefork worker) inherits the parent's record but not its thread, so
    the pid tells it to start its own."""
    global _send_loop
    current = _send_loop
    if current is None or current.pid != os.getpid():
        with _send_loop_starting:
            current = _send_loop
            if current is None or current.pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="realtime-send", daemon=True).start()
                current = _send_loop = _SendLoop(os.getpid(), loop)
    return current.loop


def _send(frames: Frames) -> None:
    """Push a commit's frames to the docks (after commit: a send never holds a lock).
    Failures are logged, never raised into the committer."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if isinstance(layer, RedisChannelLayer):
            _send_through_process_loop(layer, frames)
        else:
            # The in-memory layer (embedded mode) lives in the server's own loop and must
            # be reached through it; async_to_sync finds that loop from a sync view's thread.
            async_to_sync(_send_all)(layer, frames)
    except Exception:  # unreachable or too slow: the docks catch up on resync
        logger.warning("realtime sends failed", extra={"frames": len(frames)})


def _send_through_process_loop(layer: BaseChannelLayer, frames: Frames) -> None:
    """Run the sends in this process's send loop and wait for them, at most
    ``SEND_TIMEOUT_SECONDS``; past that they are abandoned."""
    future = asyncio.run_coroutine_threadsafe(_send_all(layer, frames), _process_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    finally:
        future.cancel()


async def _send_all(layer: BaseChannelLayer, frames: Frames) -> None:
    """Send every recipient's frame at once: each ``group_send`` is a few Redis round
    trips, and the recipients' groups do not depend on each other."""
    await asyncio.gather(
        *(_send_one(layer, membership_id, frame) for membership_id, frame in frames)
    )


async def _send_one(layer: BaseChannelLayer, membership_id: int, frame: dict[str, Any]) -> None:
    try:
        await layer.group_send(member_group(membership_id), {"type": "dock.event", "event": frame})
    except Exception:  # the layer is down: the stored event is replayed on resync
        logger.warning("realtime send failed", extra={"member": membership_id, "seq": frame["seq"]})


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
