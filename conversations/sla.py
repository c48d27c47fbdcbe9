"""The first-reply target of a conversation: its project's ``sla_first_reply_seconds``.

What each moment means, as the dock counts down and reports read them:

- **The clock starts** at the customer's first message in the conversation: the
  ``sent_at`` (WhatsApp's time of sending) of the earliest inbound message of the first
  delivery that brings one. Later messages of the customer move nothing.
  ``first_inbound_at`` holds it, with or without a target.
- **The first reply** is the first outbound message (``direction="out"``) stored after
  the conversation's first inbound one; ``first_reply_at`` is when it was stored. An
  internal note (``direction="note"``) is not a reply, nor is a message sent before the
  customer ever wrote (a template that opens a conversation): the clock has not started.
- **``sla_due_at``** is the start plus the project's target at that moment; it stays null
  when the project has no target or the customer has not written. A target changed later
  moves no deadline already set.
- **A breach** is a deadline that passes with no first reply while the conversation is
  open (one closed before its deadline is not breached). ``sla_breached_at`` is when the
  server recorded it: at the deadline (a task scheduled for it), within
  ``ROUTING_SWEEP_SECONDS`` after it (the beat's sweep), or at a first reply that comes
  late before either looked.

Once per conversation, as a database fact: a breach is recorded by one conditional
UPDATE (``... WHERE sla_breached_at IS NULL AND first_reply_at IS NULL``) whose row
count decides who publishes ``sla.breached``, in the same transaction. Two sweeps, a
sweep and the scheduled task, or a late reply (which holds the conversation's lock while
it writes ``first_reply_at``) can race for one conversation: the UPDATE that comes second
waits for the first's row lock, reads the row again and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from conversations.events import EventType, breach_payload
from conversations.models import Conversation, ConversationQuerySet, ConversationStatus
from conversations.realtime import publish

logger = logging.getLogger(__name__)

# The task that checks one conversation at its deadline, named rather than imported: the
# task module imports this one.
BREACH_TASK = "conversations.tasks.breach_sla"
# Only a deadline this close gets a task of its own. A Redis broker hands a task whose
# eta lies beyond its visibility timeout (300 s) to a worker again and again, and a
# worker keeps every task with an eta in memory until then; later deadlines are the
# sweep's, which finds them within ``ROUTING_SWEEP_SECONDS``.
TASK_HORIZON = timedelta(seconds=240)
SWEEP_BATCH = 500


def sla_due_at_for(*, target_seconds: int | None, first_inbound_at: datetime) -> datetime | None:
    """The deadline of a conversation whose customer first wrote at ``first_inbound_at``,
    under a project target of ``target_seconds`` (None: no target, no deadline)."""
    if not target_seconds:
        return None
    return first_inbound_at + timedelta(seconds=target_seconds)


def sla_watch(*, conversation_id: int, due_at: datetime) -> None:
    """Once the caller commits, schedule the check of ``conversation_id`` at ``due_at``
    when that is within ``TASK_HORIZON``. A broker that cannot be reached is logged, never
    raised: the sweep records the breach anyway."""
    if due_at - timezone.now() > TASK_HORIZON:
        return

    def schedule() -> None:
        try:
            import_string(BREACH_TASK).apply_async(args=(conversation_id,), eta=due_at)
        except Exception as exc:
            logger.warning(
                "breach check not scheduled",
                extra={"conversation": conversation_id, "error": type(exc).__name__},
            )

    transaction.on_commit(schedule)


def _breachable(now: datetime) -> ConversationQuerySet:
    """Conversations whose deadline has passed by ``now`` unanswered and unrecorded, and
    that were still open at their deadline."""
    return Conversation.objects.filter(
        sla_due_at__lte=now, first_reply_at__isnull=True, sla_breached_at__isnull=True
    ).filter(~Q(status=ConversationStatus.CLOSED) | Q(closed_at__gt=F("sla_due_at")))


def conversation_sla_breach(*, conversation_id: int, now: datetime | None = None) -> bool:
    """Record the breach of ``conversation_id`` if its deadline has passed unanswered and
    nobody recorded it yet, and publish ``sla.breached``; True when this call did."""
    now = now or timezone.now()
    with transaction.atomic():
        if not _breachable(now).filter(pk=conversation_id).update(sla_breached_at=now):
            return False
        conversation = Conversation.objects.select_related("contact", "project", "agent__user").get(
            pk=conversation_id
        )
        sla_breach_publish(conversation)
    return True


def sla_breach_publish(conversation: Conversation) -> None:
    """Tell the conversation's agent (if any) and supervisors of its recorded breach, in
    the caller's transaction (the one that recorded it)."""
    to = (conversation.agent_id,) if conversation.agent_id else ()
    publish(
        EventType.SLA_BREACHED,
        breach_payload(conversation),
        to=to,
        supervisors_of=conversation.organization_id,
    )


def sla_breaches_sweep(*, now: datetime | None = None) -> int:
    """Run by beat: record every breach whose deadline has passed (a task scheduled for
    it was lost, or the deadline was beyond ``TASK_HORIZON``); returns how many this
    sweep recorded. Each is its own short transaction, decided by its UPDATE."""
    now = now or timezone.now()
    recorded = 0
    seen: set[int] = set()
    while True:
        due = [
            pk
            for pk in _breachable(now)
            .exclude(pk__in=seen)
            .order_by("sla_due_at", "pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        ]
        for pk in due:
            recorded += conversation_sla_breach(conversation_id=pk, now=now)
        seen.update(due)
        if len(due) < SWEEP_BATCH:
            return recorded
