"""What supervisors watch: each agent's load and how long customers have been waiting.

The supervision API and the board read these, scoped to the caller's organization by
the conversation selectors they start from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from conversations import selectors
from conversations.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Membership,
    Message,
    Role,
)
from presence.models import PresenceStatus

# An agent whose oldest unanswered customer has waited this long is flagged, even when
# they are within their capacity: customers are waiting on them.
OVERLOADED_WAIT_SECONDS = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


@dataclass(frozen=True)
class AgentLoad:
    member: Membership
    presence: str
    presence_since: datetime | None
    presence_reason: str | None
    open_count: int
    oldest_waiting_since: datetime | None
    oldest_waiting_conversation: int | None
    now: datetime

    @property
    def max_open(self) -> int:
        return self.member.max_open

    @property
    def oldest_waiting_seconds(self) -> int | None:
        if self.oldest_waiting_since is None:
            return None
        return max(0, int((self.now - self.oldest_waiting_since).total_seconds()))

    @property
    def over_capacity(self) -> bool:
        """More open chats than their maximum (a supervisor assigned over it, or lowered
        it)."""
        return self.open_count > self.max_open

    @property
    def customer_waiting(self) -> bool:
        """A customer of theirs has waited ``OVERLOADED_WAIT_SECONDS`` or more for an
        answer, whatever their load."""
        waited = self.oldest_waiting_seconds
        return waited is not None and waited >= OVERLOADED_WAIT_SECONDS

    @property
    def overloaded(self) -> bool:
        """Either of the two above: the board shows each with its reason."""
        return self.over_capacity or self.customer_waiting


def with_unanswered_since(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Annotate ``unanswered_since``: the first customer message after the last reply
    (null when the last word was ours)."""
    last_reply = Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.OUT)
        .order_by("-sent_at")
        .values("sent_at")[:1],
        output_field=DateTimeField(),
    )
    first_unanswered = Subquery(
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Direction.IN,
            sent_at__gt=Coalesce(OuterRef("last_reply_at"), Value(_EPOCH)),
        )
        .order_by("sent_at")
        .values("sent_at")[:1],
        output_field=DateTimeField(),
    )
    # A thread whose messages are not stored (imported, pruned) still knows when the
    # customer last wrote.
    last_inbound_unanswered = Case(
        When(
            Q(last_inbound_at__isnull=False)
            & (Q(last_reply_at__isnull=True) | Q(last_inbound_at__gt=F("last_reply_at"))),
            then=F("last_inbound_at"),
        ),
        default=None,
        output_field=DateTimeField(),
    )
    return conversations.annotate(last_reply_at=last_reply).annotate(
        unanswered_since=Coalesce(first_unanswered, last_inbound_unanswered)
    )


def agent_loads(*, member: Membership) -> list[AgentLoad]:
    """Every member of the organization who works chats, with their load, by name."""
    now = timezone.now()
    agents = list(
        selectors.member_members(member=member)
        .select_related("presence__reason")
        .filter(role__in=[Role.AGENT, Role.SUPERVISOR])
        .order_by("user__name", "user__email")
    )
    open_rows = with_unanswered_since(
        Conversation.objects.filter(
            organization_id=member.organization_id, status=ConversationStatus.ASSIGNED
        )
    ).values_list("agent_id", "pk", "unanswered_since")  # type: ignore[misc]
    oldest: dict[int, tuple[datetime, int]] = {}
    for agent_id, conversation_id, since in open_rows:
        if since is not None and (agent_id not in oldest or since < oldest[agent_id][0]):
            oldest[agent_id] = (since, conversation_id)
    loads = []
    for agent in agents:
        presence = getattr(agent, "presence", None)
        waiting = oldest.get(agent.pk)
        loads.append(
            AgentLoad(
                member=agent,
                presence=presence.status if presence else PresenceStatus.OFFLINE,
                presence_since=presence.since if presence else None,
                presence_reason=presence.reason_name if presence else None,
                open_count=agent.open_conversations,
                oldest_waiting_since=waiting[0] if waiting else None,
                oldest_waiting_conversation=waiting[1] if waiting else None,
                now=now,
            )
        )
    return loads


def queued_conversations(*, member: Membership) -> QuerySet[Conversation]:
    """The organization's queue, the longest waiting first."""
    return (
        selectors.visible_conversations(member=member)
        .filter(status=ConversationStatus.QUEUED)
        .order_by("queued_at", "id")
    )


@dataclass(frozen=True)
class SlaCounts:
    """A project's first-reply breaches: ``open`` still open and breached now, ``today``
    recorded since the start of today (the server's time zone), closed ones too."""

    project: int
    open: int
    today: int


def sla_breach_counts(*, member: Membership) -> list[SlaCounts]:
    """Each project of the member's organization with its breaches now and today, in one
    aggregate query."""
    start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        selectors.visible_conversations(member=member)
        .filter(sla_breached_at__isnull=False)
        .values("project")
        .annotate(
            open=Count("pk", filter=~Q(status=ConversationStatus.CLOSED)),
            today=Count("pk", filter=Q(sla_breached_at__gte=start_of_day)),
        )
        .order_by("project")
    )
    return [SlaCounts(project=row["project"], open=row["open"], today=row["today"]) for row in rows]
