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
open conversations of the customers a delivery names (``select_for_update``, by id),
then the messages of a status update, then the dock streams of the members who are told
(``realtime.publish_all``). New contacts and conversations take no lock: their unique
constraints settle a race between two deliveries.

A template (``message_send_template``) goes out through the same outbox as a text; it is
the only reply allowed outside the 24-hour window. A customer's reaction is not a
message of its own: it is written on the message it reacts to (``message.updated``).

Statuses never move backwards: sent < delivered < read, and ``failed`` ends a message
that was not delivered yet. A status for a wamid this channel never recorded is ignored
(logged): it is either for a message sent by another system on the same number or a
status that raced ahead of the send task's commit, and the later statuses still land.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO, cast

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from conversations import channels, passes, receipts, sla
from conversations.activity import activity_on_commit
from conversations.events import EventType, conversation_payload, message_payload
from conversations.language import language_detect, organization_languages
from conversations.locked_open import lock_open_conversations
from conversations.media_kinds import (
    DOWNLOAD_TASK,
    MEDIA_TYPES,
    MediaState,
    media_url,
    recorded_media,
)
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Direction,
    EventKind,
    LanguageSource,
    Membership,
    Message,
    MessageStatus,
    Project,
    Rule,
)
from conversations.realtime import Event, publish, publish_all
from conversations.signals import request_routing
from conversations.templates import template_prepare

logger = logging.getLogger(__name__)

SERVICE_WINDOW = timedelta(hours=24)
# The type of an outbound message that is a template (its ``media``: name, language and
# parameters).
TEMPLATE = "template"
# The type of a customer's reaction: kept on the message it reacts to, not as a message.
REACTION = "reaction"
MAX_TEXT_LENGTH = 4096  # the Cloud API's limit for a text body
MAX_CAPTION_LENGTH = 1024  # and for a media caption

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
    reactions_applied: int = 0
    reactions_ignored: int = 0


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
    reactions = [m for m in messages if m.type == REACTION]
    messages = [m for m in messages if m.type != REACTION]
    with transaction.atomic():
        if messages:
            events += _record_messages(channel=channel, messages=messages, result=result)
        if statuses:
            events += _apply_statuses(channel=channel, statuses=statuses, result=result)
        if reactions:
            events += _apply_reactions(channel=channel, reactions=reactions, result=result)
        # Last, in the order of the locks: the streams after the conversations and messages.
        publish_all(events)
    return result


def _record_messages(
    *, channel: Channel, messages: Sequence[InboundMessage], result: DeliveryResult
) -> list[Event]:
    """Store the messages the channel does not have yet, each in its customer's open
    conversation (opened where there is none); returns the events to publish (routing is
    asked for here, after commit)."""
    unique: dict[str, InboundMessage] = {}
    for message in messages:
        unique.setdefault(message.wamid, message)
    ordered = sorted(unique.values(), key=lambda m: m.sent_at)

    held = _held_conversations(channel=channel, messages=ordered)
    contacts = _contacts_for(channel=channel, messages=ordered, held=held)
    conversations, opened = _open_conversations(
        channel=channel, contacts={c.pk: c for c in contacts.values()}, held=held
    )
    stored = _insert_new(
        channel=channel,
        messages=ordered,
        conversations={m.wamid: conversations[contacts[m.wamid].pk] for m in ordered},
    )
    result.stored = len(stored)
    result.duplicates = len(ordered) - len(stored)
    result.opened = len(opened)
    new = _count_into_conversations(stored)
    for row in stored:
        if row.media.get("state") == MediaState.PENDING:
            # The message shows at once; its file follows (``media.media_download``).
            passes.send_after_commit(DOWNLOAD_TASK, row.pk)
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation_id=pk, kind=EventKind.OPENED, rule=Rule.INBOUND)
        for pk in sorted(opened)
    )
    if channel.detect_language:
        conversations_detect_language(channel=channel, conversations=conversations, new=new)
    return _tell(channel=channel, conversations=conversations, opened=opened, new=new)


def conversations_detect_language(
    *, channel: Channel, conversations: dict[int, Conversation], new: dict[int, list[Message]]
) -> int:
    """Set the language of each queued conversation whose language is still its default
    from the customer's new texts, where the detector is confident (``conversations.
    language``), with an audit entry; routing, asked after commit, then finds an agent who
    reads it. An unsure guess changes nothing, and the next message is tried again. The
    conversations are locked by the caller. Returns how many were set."""
    undecided = [
        conversation
        for conversation in conversations.values()
        if conversation.status == ConversationStatus.QUEUED
        and conversation.language_source == LanguageSource.DEFAULT
        and any(m.text for m in new.get(conversation.pk, []))
    ]
    if not undecided:
        return 0
    spoken = organization_languages(organization_id=channel.organization_id)
    detected = 0
    for conversation in undecided:
        text = "\n".join(m.text for m in new[conversation.pk] if m.text)
        found = language_detect(text=text, languages=spoken)
        if found.language is None:
            continue
        previous = conversation.language
        conversation.language = found.language
        conversation.language_source = LanguageSource.DETECTED
        conversation.language_confidence = found.confidence
        conversation.save(update_fields=["language", "language_source", "language_confidence"])
        ConversationEvent.objects.create(
            conversation=conversation,
            kind=EventKind.UPDATED,
            rule=Rule.LANGUAGE_DETECTED,
            note=f"{found.language} (confidence {found.confidence:.2f})",
            data={
                "language": [previous, found.language],
                "confidence": found.confidence,
                "runner_up": found.runner_up,
            },
        )
        detected += 1
    return detected


def _tell(
    *,
    channel: Channel,
    conversations: dict[int, Conversation],
    opened: set[int],
    new: dict[int, list[Message]],
) -> list[Event]:
    """Who hears of the new messages: routing, of a queued conversation that got one or
    was opened; an assigned conversation's agent, of each message and the conversation's
    new counts. Returns the events to publish."""
    needs_routing = False
    events: list[Event] = []
    for conversation in conversations.values():
        rows = new.get(conversation.pk, [])
        if conversation.status == ConversationStatus.QUEUED:
            needs_routing = needs_routing or bool(rows) or conversation.pk in opened
        elif conversation.agent_id is not None and rows:
            agent = (conversation.agent_id,)
            events += [
                Event(EventType.MESSAGE_CREATED, message_payload(row), agent) for row in rows
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
    if new, and taught what the messages say of it (``_match``).

    When the contacts of ``held`` carry every id the messages name, they are all the
    contacts those ids can match (each id is unique in the organization): no lookup. New
    contacts are inserted ``ON CONFLICT DO NOTHING`` and everyone is read again: where
    another delivery made the same customer a moment ago, theirs is the one matched."""
    known = [c.contact for c in held.values()]
    wa_ids = {m.wa_id for m in messages if m.wa_id}
    user_ids = {m.user_id for m in messages if m.user_id}
    if not (wa_ids <= {c.wa_id for c in known} and user_ids <= {c.user_id for c in known}):
        known = _contacts_named(channel=channel, messages=messages, held=held)
    found, learnt = _match(channel=channel, messages=messages, known=known)
    new = {(c.wa_id, c.user_id): c for c in found.values() if c.pk is None}
    if new:
        Contact.objects.bulk_create(new.values(), ignore_conflicts=True)
        known = _contacts_named(channel=channel, messages=messages, held=held)
        found, learnt = _match(channel=channel, messages=messages, known=known)
        if any(c.pk is None for c in found.values()):
            raise IntegrityError("a contact was neither made nor found")
    for contact, fields in learnt:
        _contact_save(contact=contact, fields=fields)
    return found


def _contacts_named(
    *, channel: Channel, messages: Sequence[InboundMessage], held: dict[int, Conversation]
) -> list[Contact]:
    """The organization's contacts with an id the messages name. Where a held
    conversation's contact is one, that object stands for it: the events show it."""
    named = Q(wa_id__in={m.wa_id for m in messages if m.wa_id}) | Q(
        user_id__in={m.user_id for m in messages if m.user_id}
    )
    own = {c.contact_id: c.contact for c in held.values()}
    return [
        own.get(contact.pk, contact)
        for contact in Contact.objects.filter(named, organization_id=channel.organization_id)
    ]


def _match(
    *, channel: Channel, messages: Sequence[InboundMessage], known: list[Contact]
) -> tuple[dict[str, Contact], list[tuple[Contact, list[str]]]]:
    """Each message's contact (by wamid) among ``known``: the one with its WhatsApp id,
    else the one with its user id, else a new one (not saved). Messages teach their
    contact, in order: a later profile name wins (customers rename themselves), and an id
    it lacks is learnt unless another contact holds it. Returns the contacts, and the
    saved ones that learnt something with the fields that changed."""
    by_wa = {c.wa_id: c for c in known if c.wa_id}
    by_user = {c.user_id: c for c in known if c.user_id}
    found: dict[str, Contact] = {}
    learnt: dict[int, tuple[Contact, list[str]]] = {}
    for message in messages:
        contact = by_wa.get(message.wa_id or "") or by_user.get(message.user_id or "")
        if contact is None:
            contact = Contact(
                organization_id=channel.organization_id,
                wa_id=message.wa_id,
                user_id=message.user_id,
                name=message.profile_name,
            )
        changed = _learn(contact=contact, message=message, by_wa=by_wa, by_user=by_user)
        if changed and contact.pk is not None:
            fields = learnt.setdefault(contact.pk, (contact, []))[1]
            fields += [f for f in changed if f not in fields]
        if contact.wa_id:
            by_wa[contact.wa_id] = contact
        if contact.user_id:
            by_user[contact.user_id] = contact
        found[message.wamid] = contact
    return found, list(learnt.values())


def _learn(
    *,
    contact: Contact,
    message: InboundMessage,
    by_wa: dict[str, Contact],
    by_user: dict[str, Contact],
) -> list[str]:
    changed = []
    if message.profile_name and contact.name != message.profile_name:
        contact.name = message.profile_name
        changed.append("name")
    if message.wa_id and not contact.wa_id and message.wa_id not in by_wa:
        contact.wa_id = message.wa_id
        changed.append("wa_id")
    if message.user_id and not contact.user_id and message.user_id not in by_user:
        contact.user_id = message.user_id
        changed.append("user_id")
    return changed


def _contact_save(*, contact: Contact, fields: list[str]) -> None:
    """Keep what a contact learnt. An id another delivery gave another contact a moment
    ago stays theirs (the unique constraint says so): this contact is read again."""
    if fields == ["name"]:
        contact.save(update_fields=fields)
        return
    try:
        with transaction.atomic():
            contact.save(update_fields=fields)
    except IntegrityError:
        contact.refresh_from_db()


def _open_conversations(
    *, channel: Channel, contacts: dict[int, Contact], held: dict[int, Conversation]
) -> tuple[dict[int, Conversation], set[int]]:
    """Each contact's open conversation on the channel, locked, by contact id: the one
    ``held`` already, else a new queued one; and the ids of those opened here.

    The database's one-open-per-contact constraint settles races: where another delivery
    opened one of them a moment ago, the INSERT fails (its savepoint is rolled back) once
    that delivery commits, and its conversation is locked and continued instead."""
    conversations = {pk: held[pk] for pk in contacts if pk in held}
    missing = sorted(pk for pk in contacts if pk not in conversations)
    opened: set[int] = set()
    now = timezone.now()
    while missing:
        fresh = [
            Conversation(
                organization_id=channel.organization_id,
                **_project_of(channel),
                channel=channel,
                contact=contacts[pk],
                status=ConversationStatus.QUEUED,
                language=contacts[pk].language or channel.default_language,
                required_skills=list(channel.required_skills),
                created_at=now,
                queued_at=now,
            )
            for pk in missing
        ]
        try:
            with transaction.atomic():
                Conversation.objects.bulk_create(fresh)
        except IntegrityError:
            theirs = lock_open_conversations(
                channel_id=channel.pk, organization_id=channel.organization_id, contact_ids=missing
            )
            if not theirs:
                raise
            conversations.update((c.contact_id, c) for c in theirs)
            missing = [pk for pk in missing if pk not in conversations]
            continue
        for conversation in fresh:
            conversations[conversation.contact_id] = conversation
            opened.add(conversation.pk)
            contact = conversation.contact
            activity_on_commit(
                "chat %s arrived from %s (%s)",
                conversation.pk,
                contact.name or "a customer",
                contact.wa_id or contact.user_id,
                conversation=conversation.pk,
                channel=channel.pk,
            )
        missing = []
    return conversations, opened


def _project_of(channel: Channel) -> dict[str, Any]:
    """The channel's project for a new conversation, when the caller loaded it with the
    channel: its first-reply target is then known without another query."""
    if Channel.project.is_cached(channel):
        return {"project": channel.project}
    return {"project_id": channel.project_id}


def _insert_new(
    *,
    channel: Channel,
    messages: Sequence[InboundMessage],
    conversations: dict[str, Conversation],
) -> list[Message]:
    """Store the messages the channel has not stored yet (by wamid) in their
    conversations (by wamid); returns them, in order. Every conversation is locked, so a
    delivery carrying the same message (Meta's retry, read by another worker) records it
    before this one looks, or after this one commits: either way once."""
    stored = set(
        Message.objects.filter(channel=channel, wamid__in=[m.wamid for m in messages]).values_list(
            "wamid", flat=True
        )
    )
    return Message.objects.bulk_create(
        Message(
            conversation=conversations[message.wamid],
            channel=channel,
            direction=Direction.IN,
            type=message.type,
            text=message.text,
            media=recorded_media(message.type, message.media),
            status=MessageStatus.RECEIVED,
            wamid=message.wamid,
            context_wamid=message.context_wamid,
            error=message.error,
            sent_at=message.sent_at,
        )
        for message in messages
        if message.wamid not in stored
    )


def _count_into_conversations(stored: list[Message]) -> dict[int, list[Message]]:
    """Each conversation's unread count moved on by its new messages, its latest times to
    theirs where later, and the clock start and first-reply deadline of a conversation
    whose customer writes for the first time (``sla``); returns the new messages by
    conversation.

    Conversations given the same count, latest time and deadline are written by one
    UPDATE (a delivery's messages mostly share their second), the rule in SQL: ``F() + n``
    and ``Greatest`` (which passes over NULL on PostgreSQL). Every row is locked (or new),
    so the objects, moved on the same way, show what the rows hold."""
    new: dict[int, list[Message]] = defaultdict(list)
    for message in stored:
        new[message.conversation_id].append(message)
    targets = _reply_targets([rows[0].conversation for rows in new.values()])
    alike: dict[tuple[int, datetime, datetime | None, datetime | None], list[int]] = defaultdict(
        list
    )
    for rows in new.values():
        conversation = rows[0].conversation
        latest = max(row.sent_at for row in rows)
        started = due = None
        if conversation.pk in targets:
            started = min(row.sent_at for row in rows)
            due = sla.sla_due_at_for(
                target_seconds=targets[conversation.pk], first_inbound_at=started
            )
            conversation.first_inbound_at = started
        conversation.unread_count += len(rows)
        conversation.last_inbound_at = max(conversation.last_inbound_at or latest, latest)
        conversation.last_message_at = max(conversation.last_message_at or latest, latest)
        if due is not None:
            conversation.sla_due_at = due
            sla.sla_watch(conversation_id=conversation.pk, due_at=due)
        alike[(len(rows), latest, started, due)].append(conversation.pk)
    for (count, latest, started, due), pks in alike.items():
        Conversation.objects.filter(pk__in=pks).update(
            unread_count=F("unread_count") + count,
            last_inbound_at=Greatest("last_inbound_at", Value(latest)),
            last_message_at=Greatest("last_message_at", Value(latest)),
            **({"first_inbound_at": started} if started is not None else {}),
            **({"sla_due_at": due} if due is not None else {}),
        )
    return new


def _reply_targets(conversations: list[Conversation]) -> dict[int, int | None]:
    """The first-reply target (seconds, or None) of each conversation whose customer
    writes for the first time: no inbound message and no first reply yet. The project
    comes with the conversation (locked with it, or the channel's for a new one); one
    query finds any that did not."""
    first = [c for c in conversations if c.last_inbound_at is None and c.first_reply_at is None]
    unknown = {c.project_id for c in first if not Conversation.project.is_cached(c)}
    targets = (
        dict(Project.objects.filter(pk__in=unknown).values_list("pk", "sla_first_reply_seconds"))
        if unknown
        else {}
    )
    return {
        c.pk: (
            c.project.sla_first_reply_seconds
            if Conversation.project.is_cached(c)
            else targets.get(c.project_id)
        )
        for c in first
    }


def _apply_statuses(
    *, channel: Channel, statuses: Sequence[StatusUpdate], result: DeliveryResult
) -> list[Event]:
    """Move the messages' statuses forwards; returns the events to publish."""
    wamids = {s.wamid for s in statuses}
    messages = {
        m.wamid: m
        for m in Message.objects.select_for_update(of=("self",), no_key=True)
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


def _apply_reactions(
    *, channel: Channel, reactions: Sequence[InboundMessage], result: DeliveryResult
) -> list[Event]:
    """Put each customer's reaction on the message it reacts to (an empty emoji takes it
    away), the latest reaction winning whatever order they arrive in; returns the
    ``message.updated`` events. A reaction to a message this channel never recorded is
    ignored. The messages are locked in id order, after the statuses' (``delivery_record``)."""
    targets = {
        m.wamid: m
        for m in Message.objects.select_for_update(of=("self",), no_key=True)
        .select_related("conversation")
        .filter(channel=channel, wamid__in={r.context_wamid for r in reactions if r.context_wamid})
        .order_by("pk")
    }
    changed: dict[int, Message] = {}
    for reaction in sorted(reactions, key=lambda r: r.sent_at):
        message = targets.get(reaction.context_wamid)
        if message is None or (message.reaction_at and message.reaction_at > reaction.sent_at):
            result.reactions_ignored += 1
            continue
        message.reaction = reaction.text[:32]
        message.reaction_at = reaction.sent_at
        changed[message.pk] = message
        result.reactions_applied += 1
    if not changed:
        return []
    Message.objects.bulk_update(changed.values(), ["reaction", "reaction_at"])
    return [
        Event(EventType.MESSAGE_UPDATED, message_payload(message), (message.conversation.agent_id,))
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
    return message_queue(conversation=conversation, sender=sender, kind="text", text=body)


def message_send_template(
    *,
    conversation: Conversation,
    sender: Membership,
    name: str,
    language: str,
    parameters: Sequence[Any],
) -> Message:
    """Store an approved template of the conversation's channel as a queued message of
    type ``template`` (its text the filled body, its ``media`` the name, language and
    parameters the transport sends), and hand it over after commit like any reply. The
    one kind of message WhatsApp takes outside the 24-hour window."""
    prepared = template_prepare(
        channel=conversation.channel, name=name, language=language, parameters=parameters
    )
    return message_queue(
        conversation=conversation,
        sender=sender,
        kind=TEMPLATE,
        text=prepared.text,
        media=prepared.intent,
    )


def message_queue(
    *,
    conversation: Conversation,
    sender: Membership,
    kind: str,
    text: str,
    media: dict[str, Any] | None = None,
    file_name: str = "",
) -> Message:
    """Store an outbound message of any kind as queued, with its send intent, and hand it
    over after commit: the one way a reply enters the outbox. A closed conversation
    refuses it, and so does a customer whose 24-hour window has closed, for anything but
    a template. ``file_name`` is a file already in the storage (an attachment), which
    ``media.url`` then serves."""
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("contact", "project", "agent__user", "channel")
            .get(pk=conversation.pk)
        )
        if locked.status == ConversationStatus.CLOSED:
            raise ConversationClosed("this conversation is closed; it takes no more replies")
        now = timezone.now()
        if kind != TEMPLATE and not service_window_open(conversation=locked, at=now):
            raise OutsideServiceWindow(
                "the customer last wrote more than 24 hours ago: WhatsApp only accepts a "
                "template message outside the customer service window, not free text"
            )
        message = Message.objects.create(
            conversation=locked,
            channel=locked.channel,
            direction=Direction.OUT,
            type=kind,
            text=text,
            media=media or {},
            file=file_name,
            status=MessageStatus.QUEUED,
            sender=sender,
            sent_at=now,
            created_at=now,
            status_changed_at=now,
            send_after=now,
        )
        if file_name:
            message.media = {**message.media, "url": media_url(message.pk)}
            message.save(update_fields=["media"])
        _outbound_recorded(conversation=locked, message=message)
        recipients = _recipients(locked, sender.pk)
        publish(EventType.MESSAGE_CREATED, message_payload(message), to=recipients)
        message_hand_over(message_id=message.pk)
    conversation.last_message_at = now
    conversation.first_reply_at = locked.first_reply_at
    conversation.sla_breached_at = locked.sla_breached_at
    return message


def _outbound_recorded(*, conversation: Conversation, message: Message) -> None:
    """What an agent's message stored in the locked ``conversation`` changes of it: its
    last activity and, for the first reply after the customer's first message, the
    first-reply time (``sla`` defines it: an internal note is no reply). A first reply
    that comes after its deadline records the breach if no sweep has yet: the lock held
    here keeps the sweep's conditional UPDATE from recording it a second time."""
    at = message.created_at
    conversation.last_message_at = at
    fields = ["last_message_at"]
    is_first_reply = (
        message.direction == Direction.OUT
        and conversation.first_reply_at is None
        and conversation.last_inbound_at is not None
    )
    late = False
    if is_first_reply:
        conversation.first_reply_at = at
        fields.append("first_reply_at")
        due = conversation.sla_due_at
        late = due is not None and at > due and conversation.sla_breached_at is None
        if late:
            conversation.sla_breached_at = at
            fields.append("sla_breached_at")
    conversation.save(update_fields=fields)
    if late:
        sla.sla_breach_publish(conversation)


def message_add_note(*, conversation: Conversation, author: Membership, text: str) -> Message:
    """Keep an internal note in the thread, for the people who work the chat: never sent
    to the customer (no send intent, so the outbox never sees it) and no reply either,
    so the customer's waiting time and the first reply stay as they were. A note may be
    added to a closed conversation and outside the 24-hour window: WhatsApp is not asked."""
    body = text.strip()
    if not body:
        raise InvalidMessage("the note has no text")
    if len(body) > MAX_TEXT_LENGTH:
        raise InvalidMessage(f"a note has at most {MAX_TEXT_LENGTH} characters")
    with transaction.atomic():
        locked = (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=conversation.pk)
        )
        now = timezone.now()
        message = Message.objects.create(
            conversation=locked,
            channel=locked.channel,
            direction=Direction.NOTE,
            type="text",
            text=body,
            status="",
            sender=author,
            sent_at=now,
            created_at=now,
        )
        publish(
            EventType.MESSAGE_CREATED, message_payload(message), to=_recipients(locked, author.pk)
        )
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
        if message.type == TEMPLATE:
            wamid = transport.send_template(
                channel=message.channel,
                wa_id=contact.wa_id,
                user_id=contact.user_id,
                template=message.media,
            )
        elif message.type in MEDIA_TYPES and message.file:
            wamid = _transmit_media(message=message, transport=transport)
        else:
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


def _transmit_media(*, message: Message, transport: channels.Transport) -> str:
    """Upload the attachment (unless an earlier attempt did: its media id is kept), then
    send the message that names it. The upload is read from the storage in chunks."""
    if not isinstance(transport, channels.MediaTransport):
        raise SendFailure(code=None, title="this channel sends no files")
    contact = message.conversation.contact
    filename = str(message.media.get("filename") or "")
    media_id = message.media.get("id")
    if not isinstance(media_id, str) or not media_id:
        with message.file.open("rb") as file:
            media_id = transport.upload_media(
                channel=message.channel,
                file=cast(BinaryIO, file),
                filename=filename or (message.file.name or "file").rsplit("/", 1)[-1],
                mime_type=str(message.media.get("mime_type") or "application/octet-stream"),
            )
        message.media = {**message.media, "id": media_id}
        Message.objects.filter(pk=message.pk).update(media=message.media)
    return transport.send_media(
        channel=message.channel,
        wa_id=contact.wa_id,
        user_id=contact.user_id,
        kind=message.type,
        media_id=media_id,
        caption=message.text,
        filename=filename,
    )


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
    """The agent has seen the thread: its unread count goes to zero, and the customer is
    shown their last message read (``receipts``)."""
    with transaction.atomic():
        if not Conversation.objects.filter(pk=conversation.pk, unread_count__gt=0).update(
            unread_count=0
        ):
            conversation.unread_count = 0
            return
        fresh = Conversation.objects.select_related("contact", "project", "agent__user").get(
            pk=conversation.pk
        )
        receipts.read_receipt_owed(conversation_id=conversation.pk)
        publish(
            EventType.CONVERSATION_UPDATED,
            conversation_payload(fresh),
            to=_recipients(fresh, member.pk),
        )
    conversation.unread_count = 0
