"""Messages in and out of a conversation.

Inbound: ``delivery_record`` stores what one webhook delivery brought (messages and
status updates) in one transaction, opening or continuing conversations on the way.
Outbound goes through an outbox: ``message_send_text`` stores a reply as queued together
with its send intent (``Message.send_after``) and, once that commits, asks a Celery task
to send it (``message_hand_over``). The task claims the message before it calls the
channel (``message_transmit``), so however many tasks ask, one sends. A hand-over lost
on the way (the broker down, a task dropped) costs nothing but time: the sweep
(``messages_hand_over_overdue``, run by beat) hands over again what no worker took.
``docs/concurrency.md`` says what a worker that dies mid-send leads to.

Locks, always in this order so two writers never wait on each other in a circle: the
contact's open conversation (``select_for_update``), then the messages of a status
update, then the dock streams of the members who are told (``realtime.publish_all``).

Statuses never move backwards: sent < delivered < read, and ``failed`` ends a message
that was not delivered yet. A status for a wamid this channel never recorded is ignored
(logged): it is either for a message sent by another system on the same number or a
status that raced ahead of the send task's commit, and the later statuses still land.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations import channels, passes
from conversations.activity import activity_on_commit
from conversations.events import EventType, conversation_payload, message_payload
from conversations.locked_open import lock_open_conversations
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Direction,
    EventKind,
    Membership,
    Message,
    MessageStatus,
    Rule,
)
from conversations.realtime import Event, publish, publish_all
from conversations.rows import field_of, insert_many, insert_many_statements
from conversations.signals import request_routing

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)
MAX_TEXT_LENGTH = 4096  # the Cloud API's limit for a text body

# The outbox's task that sends one outbound message (by id), named rather than imported:
# the task module imports this one.
SEND_TASK = "conversations.tasks.send_message"
# The sweep leaves a message this long to the task its hand-over enqueued (or to the
# retry a busy channel asked for) before it hands the message over again.
HANDOVER_GRACE = timedelta(seconds=10)
# How long a claim holds: well beyond the transport's own timeouts, so a worker that is
# merely slow keeps its message; only a dead worker's claim runs out.
CLAIM_LEASE = timedelta(minutes=2)
# Calls to the channel before a message that it never took (busy, unreachable) fails.
MAX_SEND_ATTEMPTS = 9
SWEEP_BATCH = 500

_Row = TypeVar("_Row", bound=models.Model)

_STATUS_RANK: dict[str, int] = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.READ: 3,
}


class OutsideServiceWindow(Exception):
    """WhatsApp accepts free-form text only within 24 hours of the customer's last message."""


class ConversationClosed(Exception):
    """A closed conversation takes no more replies; the customer's next message reopens one."""


class InvalidMessage(ValueError):
    """The text cannot be sent as it is (empty or longer than WhatsApp allows)."""


class TransientSendError(Exception):
    """The channel could not take the message now; trying again later may work."""


class SendDeferred(Exception):
    """The channel was busy; the message waits in the outbox for the next attempt, due in
    ``retry_in`` seconds (a task may ask to run again then; the sweep would anyway)."""

    def __init__(self, *, retry_in: float, reason: str) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


class SendFailure(Exception):
    """The channel refused the message for good; ``code`` and ``title`` are the channel's."""

    def __init__(self, *, code: int | None, title: str, message: str = "") -> None:
        super().__init__(f"{code}: {title}")
        self.code = code
        self.title = title
        self.message = message

    def as_error(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "message": self.message}


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as a channel reported it, already checked and cleaned."""

    wamid: str
    wa_id: str | None
    user_id: str | None
    profile_name: str
    sent_at: datetime
    type: str
    text: str = ""
    media: dict[str, Any] = field(default_factory=dict)
    context_wamid: str = ""
    error: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusUpdate:
    """What became of one of our outbound messages: sent, delivered, read or failed."""

    wamid: str
    status: str
    at: datetime
    error: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeliveryResult:
    stored: int = 0
    duplicates: int = 0
    opened: int = 0
    statuses_applied: int = 0
    statuses_ignored: int = 0


# --- inbound ----------------------------------------------------------------------------


def delivery_record(
    *,
    channel: Channel,
    messages: Sequence[InboundMessage],
    statuses: Sequence[StatusUpdate] = (),
) -> DeliveryResult:
    """Store one delivery: every message once (by wamid), every status forwards only.

    It commits as a whole, so the webhook answers 200 only for what is durably stored and
    Meta's retry of a failed delivery finds nothing half done."""
    result = DeliveryResult()
    events: list[Event] = []
    with transaction.atomic():
        if messages:
            events += _record_messages(channel=channel, messages=messages, result=result)
        if statuses:
            events += _apply_statuses(channel=channel, statuses=statuses, result=result)
        # Last, in the order of the locks: the streams after the conversations and messages.
        publish_all(events)
    return result


def _record_messages(
    *, channel: Channel, messages: Sequence[InboundMessage], result: DeliveryResult
) -> list[Event]:
    """Store the messages, opening conversations where needed; returns the events to
    publish (routing is asked for here, after commit)."""
    unique: dict[str, InboundMessage] = {}
    for message in messages:
        unique.setdefault(message.wamid, message)
    ordered = sorted(unique.values(), key=lambda m: m.sent_at)

    held = _held_conversations(channel=channel, messages=ordered)
    contacts = _contacts_for(channel=channel, messages=ordered, held=held)
    conversations, opened = _open_conversations(
        channel=channel, contacts={c.pk: c for c in contacts.values()}, held=held
    )

    rows = []
    for message in ordered:
        conversation = conversations[contacts[message.wamid].pk]
        rows.append(
            Message(
                conversation=conversation,
                channel=channel,
                direction=Direction.IN,
                type=message.type,
                text=message.text,
                media=message.media,
                status=MessageStatus.RECEIVED,
                wamid=message.wamid,
                context_wamid=message.context_wamid,
                error=message.error,
                sent_at=message.sent_at,
            )
        )
    # The INSERT also counts its rows into their conversations (one round trip).
    stored = _insert_new(rows, key="wamid", wrap=_count_into_conversations)
    result.stored = len(stored)
    result.duplicates = len(rows) - len(stored)
    result.opened = len(opened)

    by_conversation: dict[int, list[Message]] = defaultdict(list)
    for row in stored:
        by_conversation[row.conversation_id].append(row)
    for conversation in conversations.values():
        new_rows = by_conversation.get(conversation.pk, [])
        if not new_rows:
            continue
        latest = max(row.sent_at for row in new_rows)
        conversation.unread_count += len(new_rows)
        if conversation.last_inbound_at is None or latest > conversation.last_inbound_at:
            conversation.last_inbound_at = latest
        if conversation.last_message_at is None or latest > conversation.last_message_at:
            conversation.last_message_at = latest

    if opened:
        insert_many(
            [
                ConversationEvent(conversation_id=pk, kind=EventKind.OPENED, rule=Rule.INBOUND)
                for pk in sorted(opened)
            ]
        )
    needs_routing = False
    events: list[Event] = []
    for conversation in conversations.values():
        new_rows = by_conversation.get(conversation.pk, [])
        if conversation.status == ConversationStatus.QUEUED and (
            new_rows or conversation.pk in opened
        ):
            needs_routing = True
        elif conversation.agent_id is not None and new_rows:
            agent = (conversation.agent_id,)
            events += [
                Event(EventType.MESSAGE_CREATED, message_payload(row), agent)
                for row in sorted(new_rows, key=lambda r: (r.sent_at, r.pk))
            ]
            events.append(
                Event(EventType.CONVERSATION_UPDATED, conversation_payload(conversation), agent)
            )
    if needs_routing:
        request_routing(organization_id=channel.organization_id)
    return events


def _held_conversations(
    *, channel: Channel, messages: Sequence[InboundMessage]
) -> dict[int, Conversation]:
    """The open conversations on the channel of the contacts these messages name, by
    contact id, locked, with their contacts: one statement for the usual delivery, a
    customer writing into a chat that is already open."""
    held = lock_open_conversations(
        channel_id=channel.pk,
        organization_id=channel.organization_id,
        wa_ids={m.wa_id for m in messages if m.wa_id},
        user_ids={m.user_id for m in messages if m.user_id},
    )
    return {c.contact_id: c for c in held}


def _contacts_for(
    *,
    channel: Channel,
    messages: Sequence[InboundMessage],
    held: dict[int, Conversation],
) -> dict[str, Contact]:
    """The contact of each message (by wamid), found by whichever id WhatsApp gave, made
    if new. A later message's profile name wins: customers rename themselves.

    When the contacts of ``held`` carry every id the messages name, they are all the
    contacts those ids can match (each id is unique in the organization): no lookup."""
    wa_ids = {m.wa_id for m in messages if m.wa_id}
    user_ids = {m.user_id for m in messages if m.user_id}
    by_wa: dict[str, Contact] = {}
    by_user: dict[str, Contact] = {}
    candidates = [c.contact for c in held.values()]
    if not (
        wa_ids <= {c.wa_id for c in candidates} and user_ids <= {c.user_id for c in candidates}
    ):
        candidates = list(
            Contact.objects.filter(organization_id=channel.organization_id).filter(
                Q(wa_id__in=wa_ids) | Q(user_id__in=user_ids)
            )
        )
        # A held conversation's contact is the object to refresh: its payload shows it.
        own = {c.contact_id: c.contact for c in held.values()}
        candidates = [own.get(contact.pk, contact) for contact in candidates]
    for contact in candidates:
        if contact.wa_id:
            by_wa[contact.wa_id] = contact
        if contact.user_id:
            by_user[contact.user_id] = contact

    found: dict[str, Contact] = {}
    new: list[Contact] = []
    for message in messages:
        known = by_wa.get(message.wa_id or "") or by_user.get(message.user_id or "")
        if known is None:
            contact = Contact(
                organization_id=channel.organization_id,
                wa_id=message.wa_id,
                user_id=message.user_id,
                name=message.profile_name,
            )
            new.append(contact)
        else:
            contact = known
            _contact_refresh(contact=contact, message=message, by_wa=by_wa, by_user=by_user)
        if contact.wa_id:
            by_wa[contact.wa_id] = contact
        if contact.user_id:
            by_user[contact.user_id] = contact
        found[message.wamid] = contact
    if new:
        made = _contacts_create(channel=channel, contacts=new)
        found = {wamid: made.get(id(contact), contact) for wamid, contact in found.items()}
    return found


def _contacts_create(*, channel: Channel, contacts: list[Contact]) -> dict[int, Contact]:
    """Make the new contacts of a delivery, one INSERT for those WhatsApp names by phone and
    one for those it names by user id only. Where another delivery made the same customer
    a moment ago, ``ON CONFLICT DO NOTHING`` settles the race without a savepoint and
    theirs is used: the result maps each contact that lost (by ``id()``) to the winner."""
    _insert_new([c for c in contacts if c.wa_id], key="wa_id")
    _insert_new([c for c in contacts if not c.wa_id], key="user_id")
    lost = [c for c in contacts if c.pk is None]
    if not lost:
        return {}
    wa_ids = {c.wa_id for c in lost if c.wa_id}
    user_ids = {c.user_id for c in lost if c.user_id}
    existing = list(
        Contact.objects.filter(organization_id=channel.organization_id).filter(
            Q(wa_id__in=wa_ids) | Q(user_id__in=user_ids)
        )
    )
    winners: dict[int, Contact] = {}
    for contact in lost:
        winner = next(
            (
                e
                for e in existing
                if (contact.wa_id and e.wa_id == contact.wa_id)
                or (contact.user_id and e.user_id == contact.user_id)
            ),
            None,
        )
        if winner is None:
            raise IntegrityError(
                f"contact {contact.wa_id or contact.user_id} neither made nor found"
            )
        winners[id(contact)] = winner
    return winners


def _contact_refresh(
    *,
    contact: Contact,
    message: InboundMessage,
    by_wa: dict[str, Contact],
    by_user: dict[str, Contact],
) -> None:
    changed = []
    if message.profile_name and contact.name != message.profile_name:
        contact.name = message.profile_name
        changed.append("name")
    # Learn the id we did not know yet, unless another contact holds it already.
    if message.wa_id and not contact.wa_id and message.wa_id not in by_wa:
        contact.wa_id = message.wa_id
        changed.append("wa_id")
    if message.user_id and not contact.user_id and message.user_id not in by_user:
        contact.user_id = message.user_id
        changed.append("user_id")
    if not changed or contact.pk is None:  # one still to be made takes the change along
        return
    try:
        with transaction.atomic():
            contact.save(update_fields=changed)
    except IntegrityError:
        contact.refresh_from_db()


def _open_conversations(
    *, channel: Channel, contacts: dict[int, Contact], held: dict[int, Conversation]
) -> tuple[dict[int, Conversation], set[int]]:
    """Each contact's open conversation on the channel, locked: the one ``held`` already,
    else a new queued one. The database's one-open-per-contact constraint settles races:
    a conflicting INSERT does nothing and the other delivery's conversation is read."""
    conversations = {pk: held[pk] for pk in contacts if pk in held}
    missing = sorted(pk for pk in contacts if pk not in conversations)
    if not missing:
        return conversations, set()
    now = timezone.now()
    fresh = [
        Conversation(
            organization_id=channel.organization_id,
            project_id=channel.project_id,
            channel=channel,
            contact=contacts[contact_id],
            status=ConversationStatus.QUEUED,
            language=contacts[contact_id].language or channel.default_language,
            required_skills=list(channel.required_skills),
            created_at=now,
            queued_at=now,
        )
        for contact_id in missing
    ]
    opened = {c.pk for c in _insert_new(fresh, key="contact_id")}
    for conversation in fresh:
        if conversation.pk in opened:
            conversations[conversation.contact_id] = conversation
            contact = conversation.contact
            activity_on_commit(
                "chat %s arrived from %s (%s)",
                conversation.pk,
                contact.name or "a customer",
                contact.wa_id or contact.user_id,
                conversation=conversation.pk,
                channel=channel.pk,
            )
    raced = [pk for pk in missing if pk not in conversations]
    if raced:
        # Another delivery opened these a moment ago: continue theirs.
        for conversation in lock_open_conversations(
            channel_id=channel.pk, organization_id=channel.organization_id, contact_ids=raced
        ):
            conversations[conversation.contact_id] = conversation
        if any(pk not in conversations for pk in raced):
            raise Conversation.DoesNotExist("an open conversation was neither made nor found")
    return conversations, opened


def _insert_new(
    rows: Sequence[_Row], *, key: str, wrap: Callable[[str], str] | None = None
) -> list[_Row]:
    """Insert the rows no unique constraint refuses; return those inserted, with pks.

    ``ON CONFLICT DO NOTHING ... RETURNING`` (``rows.insert_many_statements``): a replayed
    or concurrently repeated delivery inserts nothing twice, no savepoint is needed, and
    we know exactly which rows are new without reading them back. ``key`` (an attribute
    distinct among ``rows``) tells the returned rows apart. ``wrap`` turns the INSERT
    (without RETURNING) into the statement to run, which returns ``(pk, key)`` rows."""
    if not rows:
        return []
    meta = rows[0]._meta
    key_field = field_of(type(rows[0]), key)
    quote = connection.ops.quote_name
    returning = f" RETURNING {quote(str(meta.pk.column))}, {quote(str(key_field.column))}"
    by_key = {getattr(row, key_field.attname): row for row in rows}
    inserted: list[_Row] = []
    for insert, params in insert_many_statements(rows, suffix=" ON CONFLICT DO NOTHING"):
        with connection.cursor() as cursor:
            cursor.execute(wrap(insert) if wrap else insert + returning, params)
            returned = cursor.fetchall()
        for pk, value in returned:
            row = by_key[value]
            row.pk = pk
            row._state.adding = False
            inserted.append(row)
    return inserted


def _count_into_conversations(insert: str) -> str:
    """PostgreSQL: the messages' INSERT, and in the same statement each conversation's
    unread count and latest times moved on by the rows it really inserted."""
    conversation = Conversation._meta.db_table
    return (
        f'WITH "new" AS ({insert} RETURNING "id", "wamid", "conversation_id", "sent_at"), '
        '"added" AS (SELECT "conversation_id", count(*) AS "n", max("sent_at") AS "latest" '
        'FROM "new" GROUP BY "conversation_id"), '
        f'"counted" AS (UPDATE "{conversation}" AS "c" SET '
        '"unread_count" = "c"."unread_count" + "added"."n", '
        '"last_inbound_at" = GREATEST("c"."last_inbound_at", "added"."latest"), '
        '"last_message_at" = GREATEST("c"."last_message_at", "added"."latest") '
        'FROM "added" WHERE "c"."id" = "added"."conversation_id") '
        'SELECT "id", "wamid" FROM "new"'
    )


def _apply_statuses(
    *, channel: Channel, statuses: Sequence[StatusUpdate], result: DeliveryResult
) -> list[Event]:
    """Move the messages' statuses forwards; returns the events to publish."""
    wamids = {s.wamid for s in statuses}
    messages = {
        m.wamid: m
        for m in Message.objects.select_for_update(of=("self",))
        .select_related("conversation")
        .filter(channel=channel, direction=Direction.OUT, wamid__in=wamids)
        .order_by("pk")
    }
    changed: dict[int, Message] = {}
    for update in sorted(statuses, key=lambda s: s.at):
        message = messages.get(update.wamid)
        if message is None:
            result.statuses_ignored += 1
            logger.info(
                "status for an unknown message ignored",
                extra={"channel": channel.pk, "wamid": update.wamid, "status": update.status},
            )
            continue
        if _status_moves(message, update):
            message.status = update.status
            message.status_changed_at = update.at
            if update.status == MessageStatus.FAILED:
                message.error = update.error
            changed[message.pk] = message
            result.statuses_applied += 1
        else:
            result.statuses_ignored += 1
    if not changed:
        return []
    Message.objects.bulk_update(changed.values(), ["status", "status_changed_at", "error"])
    return [
        Event(EventType.MESSAGE_STATUS, message_payload(message), (message.conversation.agent_id,))
        for message in changed.values()
        if message.conversation.agent_id
    ]


def _status_moves(message: Message, update: StatusUpdate) -> bool:
    current = message.status
    if current == MessageStatus.FAILED:
        return False
    if update.status == MessageStatus.FAILED:
        return _STATUS_RANK.get(current, 0) < _STATUS_RANK[MessageStatus.DELIVERED]
    return _STATUS_RANK.get(update.status, 0) > _STATUS_RANK.get(current, 0)


# --- outbound ---------------------------------------------------------------------------


def service_window_open(*, conversation: Conversation, at: datetime | None = None) -> bool:
    """Whether WhatsApp still takes free-form text: within 24 hours of the customer's
    last message."""
    if conversation.last_inbound_at is None:
        return False
    return (at or timezone.now()) - conversation.last_inbound_at < SERVICE_WINDOW


def message_send_text(*, conversation: Conversation, sender: Membership, text: str) -> Message:
    """Store an outbound text as queued, with its send intent, and hand it over after
    commit. The answer never depends on the broker: the intent is in the row."""
    body = text.strip()
    if not body:
        raise InvalidMessage("the message has no text")
    if len(body) > MAX_TEXT_LENGTH:
        raise InvalidMessage(f"a WhatsApp text has at most {MAX_TEXT_LENGTH} characters")
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "project", "agent__user", "channel")
            .get(pk=conversation.pk)
        )
        if locked.status == ConversationStatus.CLOSED:
            raise ConversationClosed("this conversation is closed; it takes no more replies")
        now = timezone.now()
        if not service_window_open(conversation=locked, at=now):
            raise OutsideServiceWindow(
                "the customer last wrote more than 24 hours ago: WhatsApp only accepts a "
                "template message outside the customer service window, not free text"
            )
        message = Message.objects.create(
            conversation=locked,
            channel=locked.channel,
            direction=Direction.OUT,
            type="text",
            text=body,
            status=MessageStatus.QUEUED,
            sender=sender,
            sent_at=now,
            created_at=now,
            status_changed_at=now,
            send_after=now,
        )
        locked.last_message_at = now
        locked.save(update_fields=["last_message_at"])
        recipients = _recipients(locked, sender.pk)
        publish(EventType.MESSAGE_CREATED, message_payload(message), to=recipients)
        message_hand_over(message_id=message.pk)
    conversation.last_message_at = now
    return message


def _recipients(conversation: Conversation, *member_ids: int | None) -> list[int]:
    ids = {conversation.agent_id, *member_ids}
    return sorted(i for i in ids if i is not None)


def message_hand_over(*, message_id: int) -> None:
    """Once the caller commits, ask a worker to send the message: the one way a send is
    requested, by a new reply and by the sweep alike. A broker that cannot be reached is
    logged, never raised; the message stays owed and the sweep asks again."""
    passes.send_after_commit(SEND_TASK, message_id)


def messages_hand_over_overdue(*, now: datetime | None = None) -> int:
    """The sweep: hand over again every message owed for longer than ``HANDOVER_GRACE``
    that no worker holds (its hand-over was lost, or the broker was down), and count them.

    Each is stamped as handed over now, so while its task waits in a long queue the sweep
    does not ask again on every round; two tasks for one message are harmless anyway, as
    only the one that claims it sends (``message_transmit``). ``skip_locked``: beats that
    run side by side share the work instead of handing the same messages over twice."""
    now = now or timezone.now()
    handed = 0
    while True:
        with transaction.atomic():
            due = list(
                Message.objects.to_send()
                .unclaimed(now)
                .filter(send_after__lt=now - HANDOVER_GRACE)
                .order_by("send_after")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:SWEEP_BATCH]
            )
            Message.objects.filter(pk__in=due).update(send_after=now)
            for message_id in due:
                message_hand_over(message_id=message_id)
        handed += len(due)
        if len(due) < SWEEP_BATCH:
            return handed


def message_claim(*, message_id: int, now: datetime | None = None) -> Message | None:
    """Take a message owed to the channel for this worker, for ``CLAIM_LEASE``; None when
    it is sent, failed, or held by another worker. One conditional UPDATE decides, so of
    two tasks for one message (a redelivery, the sweep's) exactly one goes on to send."""
    now = now or timezone.now()
    claimed = (
        Message.objects.to_send()
        .unclaimed(now)
        .filter(pk=message_id, direction=Direction.OUT)
        .update(claimed_until=now + CLAIM_LEASE, send_attempts=F("send_attempts") + 1)
    )
    if not claimed:
        return None
    return Message.objects.select_related("channel", "conversation__contact").get(pk=message_id)


def message_transmit(*, message_id: int, transport: channels.Transport | None = None) -> None:
    """Claim an owed outbound message and hand it to the channel; record its wamid and
    ``sent``, or WhatsApp's refusal as ``failed``.

    The transport is the one registered for the channel's kind unless one is given.
    ``transport.send_text`` raises ``TransientSendError`` (the message waits for its next
    attempt: ``SendDeferred`` tells the task when) or ``SendFailure`` (failed for good).
    The network call happens outside any transaction: no row stays locked while WhatsApp
    answers; the claim keeps other workers off meanwhile."""
    message = message_claim(message_id=message_id)
    if message is None:
        return  # another worker has it or had it: never a second send from here
    contact = message.conversation.contact
    transport = transport or channels.transport_for(kind=message.channel.kind)
    try:
        wamid = transport.send_text(
            channel=message.channel,
            wa_id=contact.wa_id,
            user_id=contact.user_id,
            body=message.text,
        )
    except SendFailure as failure:
        message_fail(message_id=message_id, error=failure.as_error())
        return
    except TransientSendError as exc:
        _send_later(message=message, reason=str(exc))
        return
    message_mark_sent(message_id=message_id, wamid=wamid)


def _send_backoff(attempts: int) -> float:
    """1, 2, 4 ... seconds, at most a minute, with jitter so retries do not march together."""
    return min(2 ** (attempts - 1), 60) * (0.75 + random.random() / 2)


def _send_later(*, message: Message, reason: str) -> None:
    """After a busy or unreachable channel: the next attempt's time goes in the row and
    the claim is let go; after ``MAX_SEND_ATTEMPTS`` the message fails instead."""
    if message.send_attempts >= MAX_SEND_ATTEMPTS:
        message_fail(
            message_id=message.pk,
            error={"code": None, "title": "not sent after retries", "message": reason},
        )
        return
    retry_in = _send_backoff(message.send_attempts)
    Message.objects.filter(pk=message.pk, claimed_until=message.claimed_until).update(
        send_after=timezone.now() + timedelta(seconds=retry_in), claimed_until=None
    )
    raise SendDeferred(retry_in=retry_in, reason=reason)


def message_mark_sent(*, message_id: int, wamid: str) -> None:
    """Keep WhatsApp's id; ``sent`` unless a later status is already there. Nothing is
    owed any more: the send intent and the claim go."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation")
            .get(pk=message_id)
        )
        message.wamid = wamid
        message.send_after = None
        message.claimed_until = None
        fields = ["wamid", "send_after", "claimed_until"]
        if message.status == MessageStatus.QUEUED:
            message.status = MessageStatus.SENT
            message.status_changed_at = timezone.now()
            fields += ["status", "status_changed_at"]
        message.save(update_fields=fields)
        _publish_status(message)


def message_fail(*, message_id: int, error: dict[str, Any]) -> None:
    """The channel will not deliver this message: ``failed`` with the channel's error."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation")
            .get(pk=message_id)
        )
        if message.status not in (MessageStatus.QUEUED, MessageStatus.SENT):
            return
        message.status = MessageStatus.FAILED
        message.error = error
        message.status_changed_at = timezone.now()
        message.send_after = None
        message.claimed_until = None
        message.save(
            update_fields=["status", "error", "status_changed_at", "send_after", "claimed_until"]
        )
        _publish_status(message)


def _publish_status(message: Message) -> None:
    recipients = _recipients(message.conversation, message.sender_id)
    publish(EventType.MESSAGE_STATUS, message_payload(message), to=recipients)


def conversation_mark_read(*, conversation: Conversation, member: Membership) -> None:
    """The agent has seen the thread: its unread count goes to zero."""
    with transaction.atomic():
        if not Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
            unread_count=0
        ):
            conversation.unread_count = 0
            return
        fresh = Conversation.objects.select_related("contact", "project", "agent__user").get(
            pk=conversation.pk
        )
        publish(
            EventType.CONVERSATION_UPDATED,
            conversation_payload(fresh),
            to=_recipients(fresh, member.pk),
        )
    conversation.unread_count = 0
