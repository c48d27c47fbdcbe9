"""Acknowledge first, record after.

The webhook checks a delivery's signature and shape, stores its raw body in one INSERT
and answers; ``deliveries_record`` later turns the stored deliveries of a channel into
messages and statuses (``conversations.messaging.delivery_record``), many deliveries in
one transaction, and deletes them. Meta wants its 200 within seconds and retries what it
does not get; this keeps the answer a few milliseconds at any rate and leaves nothing
accepted unrecorded: a worker that dies mid-batch rolls back, its task is delivered
again (late acks) and the sweep (``deliveries_recover``) picks up what a lost task left.

Deliveries are taken with ``SKIP LOCKED``: several workers record one channel's backlog
side by side without waiting on each other or taking a delivery twice. Recording is
idempotent (messages are unique by wamid, statuses only move forward), so a delivery
Meta sends twice may be stored twice and recorded twice, and still counts once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from channels_whatsapp.models import InboundDelivery
from channels_whatsapp.payload import Delivery, load_json, parse_delivery
from conversations import passes
from conversations.messaging import InboundMessage, StatusUpdate, delivery_record
from conversations.models import Channel

logger = logging.getLogger(__name__)

BATCH = 200
# A delivery that failed this many times is left for a person (admin) to look at.
MAX_ATTEMPTS = 5
# The sweep leaves younger deliveries to the task their webhook enqueued.
RECOVER_AFTER = timedelta(seconds=5)
RECORD_TASK = "channels_whatsapp.tasks.record_deliveries"


# The webhook's one statement, the inbox's only raw SQL: a delivery kept as it came.
# ``InboundDelivery.objects.create`` builds a model and compiles its INSERT on every
# delivery, more CPU than the statement itself: in the ingest benchmark it cost the
# product a good part of its rate against the bare webhook, which runs this same INSERT
# (``tests/whatsapp/test_inbox.py`` reads its plan: a row written, nothing read).
KEEP_DELIVERY = """
INSERT INTO channels_whatsapp_inbounddelivery (channel_id, body, received_at, attempts, last_error)
VALUES (%(channel)s, %(body)s, %(now)s, 0, '')
"""


# A channel's recording passes: its mark in Redis says one is waiting (``conversations.passes``).
RECORDING_PASS = passes.PassKind(name="recording", task=RECORD_TASK)


def delivery_accept(*, channel: Channel, body: bytes) -> None:
    """Keep a checked delivery (``KEEP_DELIVERY``) and, once it is committed, ask for a
    recording pass of the channel unless one is waiting already. A broker or Redis that
    cannot be reached then loses nothing: the delivery is stored and the sweep records it.

    The mark is looked for after the delivery commits, and a pass drops it before it
    reads (``recording_started``): a delivery that finds the mark is committed before
    that pass reads, so the pass sees it."""
    with connection.cursor() as cursor:
        cursor.execute(KEEP_DELIVERY, {"channel": channel.pk, "body": body, "now": timezone.now()})
    passes.request(RECORDING_PASS, channel.pk)


def recording_started(*, channel_id: int) -> None:
    """As a pass starts, before it reads: drop the channel's mark, so that a delivery
    committed from now on asks for a pass of its own."""
    passes.drop_mark(RECORDING_PASS, channel_id)


def _parsed(delivery: InboundDelivery, channel: Channel) -> Delivery:
    return parse_delivery(load_json(bytes(delivery.body)), phone_number_id=channel.phone_number_id)


def _record_batch(channel: Channel, batch: list[InboundDelivery]) -> None:
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    for delivery in batch:
        parsed = _parsed(delivery, channel)
        messages += parsed.messages
        statuses += parsed.statuses
    delivery_record(channel=channel, messages=messages, statuses=statuses)
    InboundDelivery.objects.filter(pk__in=[d.pk for d in batch]).delete()


def _pending(
    channel: Channel, received_before: datetime | None = None
) -> QuerySet[InboundDelivery]:
    rows = InboundDelivery.objects.filter(channel=channel, attempts__lt=MAX_ATTEMPTS)
    if received_before is not None:
        rows = rows.filter(received_at__lt=received_before)
    return rows.select_for_update(skip_locked=True).order_by("pk")


def deliveries_record(
    *, channel_id: int, batch: int = BATCH, received_before: datetime | None = None
) -> int:
    """Record the channel's stored deliveries, oldest first, ``batch`` per transaction,
    until a batch comes back short (nothing else was there that no one else holds);
    returns how many were recorded.

    A batch that fails is taken apart: each of its deliveries is tried alone, so one bad
    delivery holds back no other; the bad one counts an attempt, keeps its error and is
    not tried again in this pass."""
    channel = Channel.objects.select_related("project").filter(pk=channel_id).first()
    if channel is None:
        return 0
    recorded = 0
    failed: set[int] = set()
    while True:
        taken: list[int] = []
        try:
            with transaction.atomic():
                rows = list(_pending(channel, received_before).exclude(pk__in=failed)[:batch])
                taken = [row.pk for row in rows]
                if rows:
                    _record_batch(channel, rows)
        except Exception:
            if not taken:  # nothing was taken: the database itself failed
                raise
            logger.warning(
                "a batch of deliveries failed; recording them one by one",
                extra={"channel": channel_id, "deliveries": len(taken)},
            )
            for pk in taken:
                outcome = _record_alone(channel, pk)
                if outcome is None:
                    failed.add(pk)
                else:
                    recorded += outcome
            continue
        recorded += len(taken)
        # A short batch emptied what was there: a delivery kept since enqueues a pass of
        # its own (the pass mark was dropped as this one started), so no second look.
        if len(taken) < batch:
            return recorded


def _record_alone(channel: Channel, pk: int) -> int | None:
    """Record one delivery in its own transaction: 1 if recorded, 0 if another worker
    has it or had it, None if it failed (it is kept, with one more attempt counted)."""
    try:
        with transaction.atomic():
            row = _pending(channel).filter(pk=pk).first()
            if row is None:
                return 0
            _record_batch(channel, [row])
        return 1
    except Exception as exc:
        logger.exception("delivery not recorded", extra={"delivery": pk})
        InboundDelivery.objects.filter(pk=pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return None


def deliveries_recover() -> int:
    """Record what no task took care of: deliveries older than ``RECOVER_AFTER`` (their
    task was lost, or the broker was down when they came). A mark whose pass never
    started expires by itself (``passes.MARK_TTL_SECONDS``), so new deliveries enqueue again."""
    before = timezone.now() - RECOVER_AFTER
    channels = (
        InboundDelivery.objects.filter(received_at__lt=before, attempts__lt=MAX_ATTEMPTS)
        .values_list("channel_id", flat=True)
        .distinct()
    )
    return sum(
        deliveries_record(channel_id=channel_id, received_before=before)
        for channel_id in list(channels)
    )


def deliveries_retry(*, delivery_ids: list[int]) -> int:
    """Give deliveries that failed too often another set of attempts (after whatever made
    them fail is mended) and have them recorded; returns how many were reset."""
    with transaction.atomic():
        retried = InboundDelivery.objects.filter(pk__in=delivery_ids)
        channels = set(retried.values_list("channel_id", flat=True))
        count = retried.update(attempts=0, last_error="")
        # A pass of its own, whatever may be waiting: a person asked for it.
        for channel_id in sorted(channels):
            passes.send_after_commit(RECORD_TASK, channel_id)
    return count
