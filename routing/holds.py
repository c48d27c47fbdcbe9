"""Transfers that wait: an agent hands a chat to a colleague who is Busy or full, and the
chat waits in the queue for that colleague, as a returning customer waits for their last
agent, until ``ROUTING_TRANSFER_WAIT_SECONDS`` have passed; then anyone may take it.

A waiting chat is queued with ``waiting_for`` and ``waiting_until`` set. The router passes
over it while it waits (``queries.waiting_for_a_colleague``); each pass of the queue first
places the waiting chats whose colleague has room (``holds_place``, run by the pass's
task and the sweep before the router walks the queue), so the place a
colleague frees goes to the chat handed to them before the queue's next one, and sends
the chats whose wait ran out back to everyone with a note in their thread. Every step
locks the chat (``skip_locked``), then the colleague, and decides under both locks, as a
routing decision does (``docs/concurrency.md``)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Rule,
)
from presence.models import PresenceStatus
from routing import router

# What a chat handed to a colleague with no room waits for in its thread's notes.
WAIT_ENDED_REASON = "transfer-wait-ended"


def transfer_wait() -> timedelta:
    return timedelta(seconds=settings.ROUTING_TRANSFER_WAIT_SECONDS)


def hold_for(
    *, conversation: Conversation, agent: Membership, actor: Membership, rule: str, note: str
) -> Conversation:
    """Send a locked assigned conversation to the queue to wait for ``agent``, who has no
    room or is Busy now. The caller holds the conversation's lock and ``agent``'s."""
    until = timezone.now() + transfer_wait()
    router.requeue(
        conversation=conversation,
        kind=EventKind.TRANSFERRED,
        rule=rule,
        actor=actor,
        note=note,
        data={
            "waiting_for": agent.pk,
            "waiting_for_name": agent.user.display_name,
            "waiting_until": until.isoformat(),
            "open": agent.open_conversations,
            "max_open": agent.max_open,
        },
        waiting_for=agent,
        waiting_until=until,
    )
    return conversation


def _waiting(organization_id: int) -> list[tuple[int, bool]]:
    """The organization's chats waiting for a colleague, the longest waiting first, each
    with whether its wait has run out. Those whose colleague has no room, as the counter
    says before any lock, are left out: nothing could be done for them now."""
    now = timezone.now()
    rows = (
        Conversation.objects.queued()
        .filter(organization_id=organization_id, waiting_for__isnull=False)
        .order_by("waiting_until", "id")
        .values_list(
            "pk",
            "waiting_until",
            "waiting_for__presence__status",
            "waiting_for__open_conversations",
            "waiting_for__max_open",
        )
    )
    waiting = []
    for pk, until, status, count, max_open in rows:
        ended = until is None or until <= now
        if ended or (status == PresenceStatus.AVAILABLE and count < max_open):
            waiting.append((pk, ended))
    return waiting


def holds_place(*, organization_id: int) -> int:
    """Give each waiting chat whose colleague has room to them, and send back to everyone
    those whose wait ran out. Runs at the start of every pass of the organization's queue.
    Returns how many were placed."""
    placed = 0
    for conversation_id, ended in _waiting(organization_id):
        with transaction.atomic():
            chat = (
                Conversation.objects.queued()
                .filter(pk=conversation_id, waiting_for__isnull=False)
                .select_related("contact", "project")
                .locked(skip_locked=True)
                .first()
            )
            if chat is None or chat.waiting_for_id is None or chat.waiting_until is None:
                continue
            if ended or chat.waiting_until <= timezone.now():
                _end_wait(chat)
                continue
            agent = router.lock_member(chat.waiting_for_id)
            count = router.room_count(agent)
            if count is None or router.ineligibility(agent, chat):
                continue
            waited = (timezone.now() - chat.queued_at).total_seconds()
            router.assign(
                conversation=chat,
                agent=agent,
                rule=Rule.TRANSFER,
                note=f"Waited {waited:.0f} s for {agent.user.display_name} to have room.",
                data={"open": count, "max_open": agent.max_open, "waited_seconds": waited},
            )
            placed += 1
    return placed


def _end_wait(chat: Conversation) -> None:
    """The colleague had no room in time: the chat is anyone's now, and its thread says
    so. The caller holds the chat's lock."""
    name = (
        Membership.objects.filter(pk=chat.waiting_for_id or 0)
        .values_list("user__name", "user__email")
        .first()
    )
    who = (name[0] or name[1].split("@", 1)[0]) if name else "the colleague"
    chat.waiting_for = None
    chat.waiting_until = None
    chat.save(update_fields=["waiting_for", "waiting_until"])
    ConversationEvent.objects.create(
        conversation=chat,
        kind=EventKind.QUEUED,
        rule=Rule.TRANSFER,
        note=(
            f"{who} had no room within {settings.ROUTING_TRANSFER_WAIT_SECONDS} s: "
            "back to the queue for anyone."
        ),
        data={"reason": WAIT_ENDED_REASON},
    )


def holds_sweep() -> int:
    """The sweep's safety net, before it routes the queues: every organization with a
    chat waiting for a colleague (``holds_place``)."""
    org_ids = (
        Conversation.objects.filter(status=ConversationStatus.QUEUED, waiting_for__isnull=False)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    return sum(holds_place(organization_id=org_id) for org_id in list(org_ids))
