"""The vocabulary of the trade: who works (organizations, members), what for (projects,
channels), with whom (contacts) and the work itself (conversations, messages, events)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, FloatField, Func, Q
from django.db.models.functions import Cast
from django.utils import timezone


class Organization(models.Model):
    name = models.CharField(max_length=200, help_text="As its people see it in the dock.")
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the organization was created."
    )

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        """Sign-in is by e-mail, whatever its case."""
        return self.get(email__iexact=username)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in by e-mail. Their work lives on their Membership."""

    email = models.EmailField(unique=True, help_text="The sign-in; one person, one address.")
    name = models.CharField(
        max_length=200, blank=True, help_text="Shown to colleagues; empty: the e-mail's first part."
    )
    is_staff = models.BooleanField(
        default=False, help_text="May open this admin; follows the member's role."
    )
    is_active = models.BooleanField(
        default=True,
        help_text="Off: the person can no longer sign in; their tokens, sessions and open "
        "docks end at once.",
    )
    date_joined = models.DateTimeField(
        default=timezone.now, help_text="When the sign-in was created."
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@", 1)[0]


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


class Project(models.Model):
    """A campaign: the context an agent needs beside the thread lives in ``metadata``."""

    # No index of its own: ``project_name_per_org`` leads with it.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="projects",
        db_index=False,
        help_text="The organization it belongs to.",
    )
    name = models.CharField(
        max_length=200, help_text="Unique in the organization; agents see it beside each chat."
    )
    metadata = models.JSONField(
        default=dict,
        blank=True,
        help_text="The campaign's context shown to agents beside the thread, as keys and values.",
    )
    sla_first_reply_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How soon a customer's first message must be answered; empty for no target.",
    )
    offer_timeout_seconds = models.PositiveIntegerField(
        default=0,
        help_text="0 assigns a chat at once; otherwise it is offered to one agent, who has "
        "this long to accept it before it passes to the next.",
    )
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the project was created."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="project_name_per_org")
        ]

    def __str__(self) -> str:
        return self.name


# Who carries a load, least loaded first: open chats over max_open, then whoever has
# waited longest since their last assignment (never assigned first), then id. The index
# ``routing_load_order`` is made of the same expressions, so a query ordered by them
# walks the index from the least loaded and stops at the first member who fits, instead
# of sorting every member of the organization. They hold no constant: the ORM sends
# constants as parameters, and an index expression with a constant in it (``* 1.0``)
# matches no query the ORM writes.
LOAD_ORDER = (
    Cast("open_conversations", output_field=FloatField()) / F("max_open"),
    F("last_assigned_at").asc(nulls_first=True),
    F("id"),
)
WORKING_ROLES = (Role.AGENT, Role.SUPERVISOR)


class MembershipQuerySet(models.QuerySet["Membership"]):
    def works_chats(self) -> MembershipQuerySet:
        """Members whose role takes chats (``Membership.works_chats``)."""
        return self.filter(role__in=WORKING_ROLES)

    def with_room(self) -> MembershipQuerySet:
        """Members below their ``max_open``, as their counter says (a hint before their
        row is locked, the fact after)."""
        return self.filter(open_conversations__lt=F("max_open"))

    def by_load(self) -> MembershipQuerySet:
        """Members who take chats at all (``max_open`` above 0: the load is their share
        of it, and the index holds only them), in ``LOAD_ORDER``."""
        return self.filter(max_open__gt=0).order_by(*LOAD_ORDER)

    def locked(self, *, skip_locked: bool = False) -> MembershipQuerySet:
        """The members' rows locked until commit, ``FOR NO KEY UPDATE``: it excludes
        other writers of the counter but not the key-share locks that inserting a row
        that points at a member takes (``docs/concurrency.md``)."""
        return self.select_for_update(no_key=True, skip_locked=skip_locked, of=("self",))


# Membership's counters, written only by ``UPDATE ... SET n = n ± 1`` under its lock.
COUNTERS = ("open_conversations", "offers_missed")


class Membership(models.Model):
    """A user's place in one organization: role, capacity and what they can handle."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        help_text="The organization they work in; one per person.",
    )
    user = models.OneToOneField(
        User,
        on_delete=models.CASCADE,
        related_name="membership",
        help_text="Their sign-in (e-mail and password), under Users.",
    )
    role = models.CharField(
        max_length=16,
        choices=Role.choices,
        default=Role.AGENT,
        help_text="Agents work chats in the dock; supervisors also watch the board and use "
        "this admin; admins set the organization up and take no chats.",
    )
    max_open = models.IntegerField(
        default=3, help_text="How many chats at most at once; 0 takes none."
    )
    skills = models.JSONField(
        default=list,
        blank=True,
        help_text="What they handle, e.g. billing, technical: a chat needing a skill goes "
        "only to members who have it.",
    )
    languages = models.JSONField(
        default=list,
        blank=True,
        help_text="ISO 639-1 codes of the languages they write, e.g. en, es: a chat in a "
        "language goes to someone who writes it.",
    )
    projects = models.ManyToManyField(
        Project,
        blank=True,
        related_name="members",
        help_text="The campaigns whose chats they take.",
    )
    # When this member last received a chat: ties in load go to whoever waited longest.
    last_assigned_at = models.DateTimeField(
        null=True, blank=True, help_text="When they were last given a chat."
    )
    # How many conversations are assigned (or offered) to this member now: routing reads
    # it instead of counting them. Every write that gives a chat an agent or takes one
    # away keeps it, in the same transaction (``routing.router.count_moved``).
    open_conversations = models.IntegerField(default=0, editable=False)
    # Offers this member declined or let run out since they last accepted one; at
    # ``routing.offers.MISSES_BEFORE_BUSY`` they are set Busy.
    offers_missed = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When they joined the organization."
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [
            # ``MembershipQuerySet.by_load`` within one organization.
            models.Index(
                F("organization"),
                *LOAD_ORDER,
                condition=Q(max_open__gt=0),
                name="routing_load_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(max_open__gte=0), name="max_open_not_negative"),
            models.CheckConstraint(
                condition=Q(open_conversations__gte=0), name="open_conversations_not_negative"
            ),
        ]
        permissions = [
            ("agent", "Can work conversations in the dock"),
            ("supervise", "Can see and intervene in every conversation of the organization"),
        ]

    def __str__(self) -> str:
        return f"{self.user.email} ({self.role})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A full save of a member read earlier leaves ``open_conversations`` and
        ``offers_missed`` alone: it would write back a count that moved meanwhile."""
        if not (self._state.adding or args or kwargs.get("force_insert")) and (
            kwargs.get("update_fields") is None
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in COUNTERS
            ]
        super().save(*args, **kwargs)

    @property
    def works_chats(self) -> bool:
        return self.role in (Role.AGENT, Role.SUPERVISOR)

    @property
    def supervises(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def new_channel_key() -> str:
    return secrets.token_urlsafe(24)


class ChannelKind(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"


class Channel(models.Model):
    """A connected number. Inbound chats on it open under its project."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="channels",
        help_text="The organization it belongs to.",
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="channels",
        help_text="New chats on this number open under this project.",
    )
    kind = models.CharField(
        max_length=16,
        choices=ChannelKind.choices,
        default=ChannelKind.WHATSAPP,
        help_text="The messaging platform of the number.",
    )
    key = models.CharField(
        max_length=64,
        unique=True,
        default=new_channel_key,
        editable=False,
        help_text="The unguessable part of the webhook URL.",
    )
    phone_number_id = models.CharField(
        max_length=64, help_text="Meta's id of the number (WhatsApp Manager, API setup)."
    )
    business_account_id = models.CharField(
        max_length=64,
        blank=True,
        help_text="The WhatsApp Business Account the number belongs to: its approved message "
        "templates are read from there.",
    )
    display_phone_number = models.CharField(
        max_length=32, blank=True, help_text="The number as people read it, e.g. +1 555 010 0200."
    )
    access_token = models.TextField(
        help_text="A system user's permanent token with whatsapp_business_messaging."
    )
    app_secret = models.CharField(
        max_length=255, help_text="The Meta app's secret: deliveries signed without it are refused."
    )
    verify_token = models.CharField(
        max_length=255,
        help_text="Any phrase you choose; give Meta the same one with the webhook URL.",
    )
    default_language = models.CharField(
        max_length=16, default="en", help_text="The ISO 639-1 code of a new chat's language."
    )
    detect_language = models.BooleanField(
        default=False,
        help_text="Tell a new chat's language from the customer's first messages, among the "
        "languages the organization's agents speak; an unsure guess keeps the default.",
    )
    required_skills = models.JSONField(
        default=list,
        blank=True,
        help_text="Skills every chat on this number needs, e.g. billing; empty: anyone.",
    )
    created_at = models.DateTimeField(
        default=timezone.now, help_text="When the number was connected."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "phone_number_id"], name="one_channel_per_phone_number"
            )
        ]

    def __str__(self) -> str:
        return self.display_phone_number or self.phone_number_id


class MessageWords(Func):
    """The words of a message's text as PostgreSQL's full-text search reads them, with the
    ``simple`` configuration: no stemming and no stop words, as customers write in
    whatever language they speak and search finds names and codes as typed.

    Kept as an expression GIN index (``message_words``) rather than a stored column (a
    ``GeneratedField``, or a trigger's): the thread pages that read messages all day do
    not carry a vector in every row, and nothing can write the column out of step. The
    configuration is written into the SQL, not sent as a parameter: the index matches a
    query only when their expressions are the same, and a prepared statement's generic
    plan cannot see a parameter's value (``tests/conversations/test_search.py``)."""

    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


class _OrEmpty(Func):
    """A nullable text as itself or empty, the empty string written into the SQL (see
    ``MessageWords`` on why no parameter)."""

    template = "COALESCE(%(expressions)s, '')"
    output_field = models.TextField()


class ContactWords(Func):
    """The words of a customer's name and numbers, for search: as ``MessageWords``, with
    the WhatsApp number one word, so the digits of its start find it."""

    function = "to_tsvector"
    template = "%(function)s('simple'::regconfig, %(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("name"), _OrEmpty("wa_id"), _OrEmpty("user_id"))


class Contact(models.Model):
    """A customer. WhatsApp names them by phone (wa_id) or, when they hide their number
    behind a username, by a business-scoped user id; one of the two is always present."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="contacts",
        help_text="The organization whose customer they are.",
    )
    wa_id = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text="The customer's WhatsApp number, digits only.",
    )
    user_id = models.CharField(
        max_length=128,
        null=True,
        blank=True,
        help_text="WhatsApp's id of a customer who hides their number behind a username.",
    )
    name = models.CharField(max_length=200, blank=True, help_text="Their WhatsApp profile name.")
    language = models.CharField(
        max_length=16, blank=True, help_text="The ISO 639-1 code of the language they write."
    )
    attributes = models.JSONField(
        default=dict, blank=True, help_text="What is known of the customer, as keys and values."
    )
    created_at = models.DateTimeField(default=timezone.now, help_text="When they first wrote.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "wa_id"],
                condition=Q(wa_id__isnull=False),
                name="contact_wa_id_per_org",
            ),
            models.UniqueConstraint(
                fields=["organization", "user_id"],
                condition=Q(user_id__isnull=False),
                name="contact_user_id_per_org",
            ),
            models.CheckConstraint(
                condition=Q(wa_id__isnull=False) | Q(user_id__isnull=False),
                name="contact_has_an_id",
            ),
        ]
        indexes = [
            # Search by name and number (``conversations.search``).
            GinIndex(ContactWords(), name="contact_words"),
        ]

    def __str__(self) -> str:
        return self.name or self.wa_id or self.user_id or f"contact {self.pk}"


class ConversationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Offered to one agent (``offered_to``) until ``offer_expires_at``: it holds a place in
    # their room, and they accept or decline it (``routing.offers``).
    OFFERED = "offered", "Offered"
    ASSIGNED = "assigned", "Assigned"
    CLOSED = "closed", "Closed"


# Queue order: priority first, then arrival, then id for chats that arrived at the same
# instant. The index ``queue_order`` holds the queued chats in it.
QUEUE_ORDER = ("-priority", "queued_at", "id")


class LanguageSource(models.TextChoices):
    """Where a conversation's language came from: the rule routing reports."""

    DEFAULT = "default", "The contact's or the channel's default"
    DETECTED = "detected", "Detected from the customer's words"
    PERSON = "person", "Set by a person"


class ConversationQuerySet(models.QuerySet["Conversation"]):
    def queued(self) -> ConversationQuerySet:
        return self.filter(status=ConversationStatus.QUEUED)

    def in_queue_order(self) -> ConversationQuerySet:
        return self.order_by(*QUEUE_ORDER)

    def locked(self, *, skip_locked: bool = False) -> ConversationQuerySet:
        """The chats' rows (not their related rows) locked until commit, ``FOR NO KEY
        UPDATE``; with ``skip_locked``, those another transaction holds are left out."""
        return self.select_for_update(no_key=True, skip_locked=skip_locked, of=("self",))


class Conversation(models.Model):
    # No index of its own: ``conversation_opened`` leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="conversations", db_index=False
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="conversations")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    status = models.CharField(
        max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.QUEUED
    )
    agent = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    language = models.CharField(max_length=16, blank=True)
    language_source = models.CharField(
        max_length=16, choices=LanguageSource.choices, default=LanguageSource.DEFAULT
    )
    # The detector's confidence in ``language`` when it was detected.
    language_confidence = models.FloatField(null=True, blank=True)
    required_skills = models.JSONField(default=list, blank=True)
    priority = models.IntegerField(default=0)
    # While ``offered``: the agent it is offered to and when the offer runs out.
    offered_to = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    # The agent who last declined it or let its offer run out: it is not offered to them
    # again next (never to the same agent twice in a row).
    offer_passed_by = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(default=timezone.now)
    assigned_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    # The customer's last message: drives the 24-hour service window and "waiting since".
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    unread_count = models.IntegerField(default=0)
    # The first-reply target (``conversations.sla`` defines each moment precisely).
    first_inbound_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the first-reply clock started: the customer's first message in the "
        "conversation (null: the customer has not written).",
    )
    sla_due_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the first reply is due: the customer's first message plus the "
        "project's sla_first_reply_seconds (null: no target, or the customer has not written).",
    )
    first_reply_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the first reply after the customer's first message was stored "
        "(internal notes do not count).",
    )
    sla_breached_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the server recorded that the first reply missed sla_due_at "
        "(null: met, or not yet due).",
    )
    # An agent's transfer to a colleague who had no room: the chat waits in the queue for
    # that colleague until ``waiting_until``, then anyone may take it (``routing.holds``).
    waiting_for = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    waiting_until = models.DateTimeField(null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel"],
                condition=~Q(status="closed"),
                name="one_open_conversation_per_contact_and_channel",
            ),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(agent__isnull=False),
                name="assigned_conversation_has_agent",
            ),
            models.CheckConstraint(
                condition=~Q(status="queued") | Q(agent__isnull=True),
                name="queued_conversation_has_no_agent",
            ),
            models.CheckConstraint(
                condition=~Q(status="offered")
                | Q(agent__isnull=True, offered_to__isnull=False, offer_expires_at__isnull=False),
                name="offered_conversation_has_one_offer",
            ),
            models.CheckConstraint(
                condition=Q(waiting_for__isnull=True) | Q(status="queued"),
                name="only_a_queued_conversation_waits_for_an_agent",
            ),
        ]
        indexes = [
            # ``QUEUE_ORDER`` to the last tie, within one organization: routing reads
            # "the queued chats before this one" as ranges of it
            # (``routing.queries.CHAT_AHEAD``).
            models.Index(
                fields=["organization", "-priority", "queued_at", "id"],
                condition=Q(status="queued"),
                name="queue_order",
            ),
            models.Index(fields=["agent"], condition=Q(status="assigned"), name="open_by_agent"),
            # The sweep of offers whose time ran out, and a dock's offers.
            models.Index(
                fields=["offer_expires_at"], condition=Q(status="offered"), name="offers_due"
            ),
            # The breach sweep's scan: only the deadlines still running, not the history.
            models.Index(
                fields=["sla_due_at"],
                condition=Q(
                    sla_due_at__isnull=False,
                    first_reply_at__isnull=True,
                    sla_breached_at__isnull=True,
                ),
                name="sla_running",
            ),
            # Reports read an organization's conversations by when they opened
            # (``reports.summary``); a day's report reads that day's, not the year's.
            models.Index(fields=["organization", "created_at"], name="conversation_opened"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.status})"


class Direction(models.TextChoices):
    IN = "in", "Inbound"
    OUT = "out", "Outbound"
    # An internal note in the thread: written by a member for colleagues, never sent.
    NOTE = "note", "Internal note"


class MessageStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"


class MessageQuerySet(models.QuerySet["Message"]):
    def to_send(self) -> MessageQuerySet:
        """The outbox: outbound messages a worker still owes the channel."""
        return self.filter(send_after__isnull=False, status=MessageStatus.QUEUED)

    def unclaimed(self, now: datetime) -> MessageQuerySet:
        """Held by no worker: never claimed, or the claim's lease ran out (its worker died)."""
        return self.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))


class Message(models.Model):
    """One message in a thread. ``wamid`` is WhatsApp's id: a delivery repeated by Meta
    finds the row it already made instead of making another.

    An outbound message carries its send intent in the same row (``send_after``: when the
    next hand-over to a worker is due, null once sent or failed), so the intent commits
    with the message and a lost Celery task loses nothing (``messaging``, the outbox)."""

    # No index of its own: ``thread_order`` leads with it.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction.choices)
    type = models.CharField(max_length=32, default="text")
    text = models.TextField(blank=True)
    media = models.JSONField(default=dict, blank=True)
    # Empty for a note: it is kept, never sent, so it has no delivery status.
    status = models.CharField(max_length=16, choices=MessageStatus.choices, blank=True)
    wamid = models.CharField(max_length=255, null=True, blank=True)
    context_wamid = models.CharField(max_length=255, blank=True)
    error = models.JSONField(default=dict, blank=True)
    sender = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When the customer (or WhatsApp) says it happened; orders out-of-order deliveries.
    sent_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    send_after = models.DateTimeField(null=True, blank=True)
    # The lease of the worker sending it now; past, the worker is taken for dead.
    claimed_until = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # An inbound message: when the platform was asked to show it read to the customer.
    # Set by one conditional UPDATE, so however many docks open the chat it is asked once.
    read_receipt_at = models.DateTimeField(null=True, blank=True)
    # The customer's reaction to this message (an emoji; empty: none) and when they
    # made it: a later reaction replaces an earlier one, never the other way round.
    reaction = models.CharField(max_length=32, blank=True)
    reaction_at = models.DateTimeField(null=True, blank=True)
    # The medium itself (a customer's, once downloaded; an agent's, as uploaded) in the
    # storage; ``media`` says what it is and where the API serves it (``conversations.media``).
    file = models.FileField(upload_to="messages/%Y/%m/", max_length=255, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "wamid"],
                condition=Q(wamid__isnull=False),
                name="message_wamid_unique_per_channel",
            )
        ]
        indexes = [
            # A thread in order; with ``direction`` beside it the summary report counts
            # each conversation's messages in and out from the index alone.
            models.Index(
                fields=["conversation", "sent_at"], include=["direction"], name="thread_order"
            ),
            # The sweep's scan: only the few messages still owed, not the whole history.
            models.Index(
                fields=["send_after"], condition=Q(send_after__isnull=False), name="outbox_due"
            ),
            # Search over threads (``conversations.search``).
            GinIndex(MessageWords("text"), name="message_words"),
        ]
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.pk}"


class EventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    QUEUED = "queued", "Queued"
    ASSIGNED = "assigned", "Assigned"
    TRANSFERRED = "transferred", "Transferred"
    REASSIGNED = "reassigned", "Reassigned"
    CLOSED = "closed", "Closed"
    UPDATED = "updated", "Updated"
    OFFERED = "offered", "Offered"
    DECLINED = "declined", "Offer declined"
    OFFER_EXPIRED = "offer-expired", "Offer ran out"


class Rule(models.TextChoices):
    """Why routing or a person decided what it did; shown to supervisors."""

    STICKY = "sticky", "Sticky: back to the customer's last agent"
    LEAST_LOADED = "least-loaded", "Least loaded eligible agent"
    DRAIN = "drain", "Queue drained when capacity freed"
    TRANSFER = "transfer", "Transferred"
    REASSIGNED_AFTER_OFFLINE = "reassigned-after-offline", "Agent offline too long"
    SUPERVISOR = "supervisor", "Supervisor decision"
    INBOUND = "inbound", "Customer wrote"
    AGENT = "agent", "Agent decision"
    OFFER_ACCEPTED = "offer-accepted", "The agent accepted the offer"
    OFFER_DECLINED = "offer-declined", "The agent declined the offer"
    OFFER_TIMED_OUT = "offer-timed-out", "The offer ran out"
    LANGUAGE_DETECTED = "language-detected", "Language detected from the customer's words"


class ConversationEvent(models.Model):
    """The audit trail: who did what to a conversation, when, and by which rule."""

    # No index of its own: ``trail_order`` leads with it.
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    rule = models.CharField(max_length=32, choices=Rule.choices, blank=True)
    actor = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_agent = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to_agent = models.ForeignKey(
        Membership, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # A conversation's trail in order; with ``kind`` beside it the summary report
            # reads each conversation's assignments and transfers from the index alone.
            models.Index(
                fields=["conversation", "created_at"], include=["kind"], name="trail_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.rule}) on {self.conversation_id}"


class DockStream(models.Model):
    """Per-member event counter. Taking the next ``seq`` locks this row until commit, so
    one member's events commit in ``seq`` order and a client never skips one."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, primary_key=True, related_name="dock_stream"
    )
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"stream of {self.membership_id} at {self.last_seq}"


class DockEvent(models.Model):
    """A server event as one member's dock received it; replayed on ``resync``."""

    # No index of its own: ``one_event_per_seq`` leads with it.
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    seq = models.BigIntegerField()
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "seq"], name="one_event_per_seq")
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.seq} for {self.membership_id}"


class TemplateStatus(models.TextChoices):
    """The review states the Cloud API reports; only ``APPROVED`` may be sent."""

    APPROVED = "APPROVED", "Approved"
    PENDING = "PENDING", "Pending review"
    REJECTED = "REJECTED", "Rejected"
    PAUSED = "PAUSED", "Paused"
    DISABLED = "DISABLED", "Disabled"


class MessageTemplateQuerySet(models.QuerySet["MessageTemplate"]):
    def approved(self) -> MessageTemplateQuerySet:
        return self.filter(status=TemplateStatus.APPROVED)


class MessageTemplate(models.Model):
    """A message template of a channel's business account, as last synced from the
    platform: the only kind of message WhatsApp takes outside the 24-hour window."""

    # No index of its own: ``one_template_per_name_and_language`` leads with it.
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="templates", db_index=False
    )
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    category = models.CharField(max_length=32, blank=True)
    # Any status the platform reports is kept as it came (unknown ones too).
    status = models.CharField(max_length=32)
    components = models.JSONField(default=list, blank=True)
    platform_id = models.CharField(max_length=64, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "name", "language"], name="one_template_per_name_and_language"
            )
        ]
        ordering = ["name", "language"]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class QuickReply(models.Model):
    """A prepared answer an agent inserts by typing ``/`` and its shortcut in the composer.
    With no project it is offered in every project of the organization. Its text may carry
    placeholders the dock fills from the chat (``{customer.first_name}``, ``{agent.name}``,
    ``{project.<metadata key>}``...)."""

    # No index of its own: ``quick_reply_shortcut_per_project`` leads with it.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="quick_replies", db_index=False
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quick_replies",
        help_text="Empty: offered in every project.",
    )
    shortcut = models.CharField(
        max_length=32, help_text="What the agent types after /: letters, digits, - and _."
    )
    text = models.TextField(max_length=4096)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "quick replies"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "project", "shortcut"],
                nulls_distinct=False,
                name="quick_reply_shortcut_per_project",
            )
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"
