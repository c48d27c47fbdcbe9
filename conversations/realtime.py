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
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from conversations.events import EventData, EventType
from conversations.models import DockEvent, DockStream, Membership, Role
from conversations.signals import events_published

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


@dataclass(frozen=True)
class Event:
    """One event to publish: its type and data, the members it is for and, with
    ``supervisors_of``, every supervisor and admin of that organization too. A type
    that is not in the catalogue (``events.EventType``) is refused here."""

    type: EventType
    data: EventData
    to: tuple[int, ...] = ()
    supervisors_of: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", EventType(self.type))


# A publish, in one round trip: the ORM cannot say it. Its steps would be five
# statements (the supervisors, the streams still missing, their locks taken in member
# order, the counters moved on, the events) because Django has no UPDATE ... RETURNING
# and its upsert cannot add to what it finds; and a routing decision publishes an event,
# so they would cost a worker several times what the decision itself costs. Here each
# recipient's stream row is inserted, or locked and counted up by the number of events
# it gets, in member id order (two publishers never wait on each other in a circle);
# its events take the numbers in between, in the order given. The events come as one
# JSON array (``type``, ``data``, the members ``to``, the organization ``org`` whose
# supervisors hear it): one parameter, written by ``json.dumps`` at C speed. Those
# organizations come again as an array, so that their supervisors are looked up by the
# index on the organization (``tests/conversations/test_realtime.py`` reads the plan).
PUBLISH_STATEMENT = """
WITH event AS (
    SELECT x.ord::integer - 1 AS ord, x.e ->> 'type' AS type, x.e -> 'data' AS data,
        x.e -> 'to' AS named, (x.e ->> 'org')::bigint AS org
    FROM jsonb_array_elements(%(events)s::jsonb) WITH ORDINALITY AS x (e, ord)
), recipient (ord, membership_id) AS (
    SELECT event.ord, t.id::bigint FROM event, jsonb_array_elements_text(event.named) AS t (id)
    UNION
    SELECT event.ord, m.id
    FROM event JOIN conversations_membership m ON m.organization_id = event.org
    WHERE m.organization_id = ANY(%(organizations)s::bigint[]) AND m.role = ANY(%(roles)s)
), counted AS (
    SELECT membership_id, count(*) AS n FROM recipient GROUP BY membership_id
), seq AS (
    INSERT INTO conversations_dockstream (membership_id, last_seq)
    SELECT membership_id, n FROM counted ORDER BY membership_id
    ON CONFLICT (membership_id)
    DO UPDATE SET last_seq = conversations_dockstream.last_seq + EXCLUDED.last_seq
    RETURNING membership_id, last_seq
), numbered AS (
    SELECT r.ord, r.membership_id,
        seq.last_seq - counted.n + row_number() OVER (PARTITION BY r.membership_id ORDER BY r.ord)
        AS seq
    FROM recipient r JOIN seq USING (membership_id) JOIN counted USING (membership_id)
), stored AS (
    INSERT INTO conversations_dockevent (membership_id, seq, type, data, created_at)
    SELECT n.membership_id, n.seq, event.type, event.data, %(now)s
    FROM numbered n JOIN event USING (ord)
)
SELECT membership_id, seq, ord FROM numbered ORDER BY membership_id, seq
"""


def _record(events: list[Event]) -> list[tuple[int, int, int]]:
    """Store ``events`` for their recipients (``PUBLISH_STATEMENT``); returns what was
    stored as (member, seq, the event's position), by member and seq."""
    given = [
        {"type": e.type.value, "data": e.data, "to": sorted(set(e.to)), "org": e.supervisors_of}
        for e in events
    ]
    params: dict[str, Any] = {
        "events": Jsonb(given),
        "organizations": sorted({e.supervisors_of for e in events if e.supervisors_of is not None}),
        "roles": list(SUPERVISING_ROLES),
        "now": timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(PUBLISH_STATEMENT, params)
        return [(int(member), int(seq), int(ord)) for member, seq, ord in cursor.fetchall()]


def publish(
    event_type: EventType,
    data: EventData,
    *,
    to: Iterable[int],
    supervisors_of: int | None = None,
) -> None:
    """Record ``event_type`` for every member in ``to`` (and, with ``supervisors_of``,
    every supervisor and admin of that organization) and push it after commit."""
    publish_all([Event(event_type, data, tuple(to), supervisors_of)])


def publish_all(events: Iterable[Event]) -> None:
    """Record ``events``, in their order, and push them after commit: one statement and
    one send for all of them (a recording pass publishes an event or two per message).
    Each member's stream row stays locked until commit, so one member's events are
    numbered and committed one after the other."""
    wanted = [e for e in events if e.to or e.supervisors_of is not None]
    if not wanted:
        return
    # Inside the caller's transaction no savepoint: a failure here fails the caller's.
    with transaction.atomic(savepoint=False):
        frames = [
            (member, {"type": wanted[ord].type.value, "seq": seq, "data": wanted[ord].data})
            for member, seq, ord in _record(wanted)
        ]
        # Other records of the events (the webhooks' outbox: one read of the
        # subscriptions that want them, a write only when some do) commit with the change.
        events_published.send(sender=None, events=wanted)
        if frames:
            transaction.on_commit(lambda: _send(frames))


def event_organizations(events: list[Event]) -> list[int | None]:
    """The organization of each event: the one whose supervisors hear it, else that of
    the members it is for (an event is never for two organizations). One query, only
    for events that name no organization."""
    unknown = {e.to[0] for e in events if e.supervisors_of is None and e.to}
    of_member = (
        dict(Membership.objects.filter(pk__in=unknown).values_list("pk", "organization_id"))
        if unknown
        else {}
    )
    return [
        e.supervisors_of
        if e.supervisors_of is not None
        else of_member.get(e.to[0])
        if e.to
        else None
        for e in events
    ]


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
    try:
        _on_layer(lambda layer: _send_all(layer, frames))
    except Exception:  # unreachable or too slow: the docks catch up on resync
        logger.warning("realtime sends failed", extra={"frames": len(frames)})


def _on_layer(send: Callable[[BaseChannelLayer], Coroutine[Any, Any, None]]) -> None:
    """Run ``send`` against the channel layer from sync code and wait for it."""
    layer = get_channel_layer()
    if layer is None:
        return
    _send_through_process_loop(send(layer))


def _send_through_process_loop(sends: Coroutine[Any, Any, None]) -> None:
    """Run the sends in this process's send loop and wait for them, at most
    ``SEND_TIMEOUT_SECONDS``; past that they are abandoned."""
    future = asyncio.run_coroutine_threadsafe(sends, _process_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    finally:
        future.cancel()


def docks_sign_out(*, membership_id: int) -> None:
    """After commit, close every open dock of the member, in every server process: their
    access has ended (``conversations.services.user_access_revoke``). Not an event of
    their stream: nothing is replayed, the socket is simply closed."""
    group = member_group(membership_id)

    def send() -> None:
        try:
            _on_layer(lambda layer: layer.group_send(group, {"type": "dock.signed_out"}))
        except Exception:
            # Each dock still refuses the member's next command (``DockConsumer``).
            logger.warning("closing the docks failed", extra={"member": membership_id})

    transaction.on_commit(send)


# At most this many of one member's frames travel in one channel-layer message.
FRAMES_PER_MESSAGE = 50


async def _send_all(layer: BaseChannelLayer, frames: Frames) -> None:
    """Send every recipient's frames, the recipients at once (their groups do not depend
    on each other). One recipient's frames of a commit travel together as one message
    (``dock.events``), in ``seq`` order: each ``group_send`` is three Redis round trips,
    and a recording pass gives an agent an event or two for each of their messages."""
    by_member: dict[int, list[dict[str, Any]]] = {}
    for membership_id, frame in frames:
        by_member.setdefault(membership_id, []).append(frame)
    await asyncio.gather(
        *(_send_in_order(layer, membership_id, sent) for membership_id, sent in by_member.items())
    )


async def _send_in_order(
    layer: BaseChannelLayer, membership_id: int, frames: list[dict[str, Any]]
) -> None:
    for start in range(0, len(frames), FRAMES_PER_MESSAGE):
        part = frames[start : start + FRAMES_PER_MESSAGE]
        message = (
            {"type": "dock.event", "event": part[0]}
            if len(part) == 1
            else {"type": "dock.events", "events": part}
        )
        try:
            await layer.group_send(member_group(membership_id), message)
        except Exception:  # the layer is down: the stored events are replayed on resync
            logger.warning(
                "realtime send failed", extra={"member": membership_id, "seq": part[0]["seq"]}
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
