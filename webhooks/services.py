"""The writes of the event webhooks: subscriptions, the outbox of their events, and what
an attempt's outcome changes. Each service owns its transaction, whoever calls it (the
API, the admin, the delivery chain)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations import passes, realtime
from conversations.events import EventType
from conversations.models import Membership, Organization
from webhooks.addresses import UrlRefused, url_check
from webhooks.models import (
    RESPONSE_EXCERPT_CHARS,
    DeliveryAttempt,
    EventState,
    Subscription,
    WebhookEvent,
)

# A subscription's delivery chain, asked for once its events are committed; coalesced by
# a mark in Redis like every pass (``conversations.passes``). No pass lock: the chain's
# claim is a conditional UPDATE of the subscription row (``delivery.chain_claim``).
CHAIN = passes.PassKind(name="webhook-chain", task="webhooks.tasks.deliver")


class SubscriptionInvalid(ValueError):
    """What is wrong with a subscription's fields, by field name."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def subscription_errors(*, url: str | None, events: list[str] | None) -> dict[str, list[str]]:
    """The problems of a URL and a list of event types, by field; empty when both are
    fine. Event types are checked against the catalogue, so a type added there is
    accepted here with nothing else to change."""
    errors: dict[str, list[str]] = {}
    if url is not None:
        try:
            url_check(url)
        except UrlRefused as refused:
            errors["url"] = [str(refused)]
    if events is not None:
        known = {t.value for t in EventType}
        unknown = sorted(set(events) - known)
        if not events:
            errors["events"] = ["Name at least one event type."]
        elif unknown:
            errors["events"] = [
                f"Unknown event types: {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
            ]
    return errors


def _check(*, url: str | None, events: list[str] | None) -> None:
    errors = subscription_errors(url=url, events=events)
    if errors:
        raise SubscriptionInvalid(errors)


def subscription_create(
    *,
    organization: Organization,
    url: str,
    events: list[str],
    secret: str,
    active: bool = True,
    description: str = "",
    created_by: Membership | None = None,
) -> Subscription:
    _check(url=url, events=events)
    return Subscription.objects.create(
        organization=organization,
        url=url,
        events=sorted(set(events)),
        secret=secret,
        active=active,
        description=description,
        created_by=created_by,
    )


def subscription_update(*, subscription: Subscription, **changes: Any) -> Subscription:
    """Change a subscription. Turning it on again ends a pause: its failure count starts
    over and its chain resumes with the events still owed."""
    _check(url=changes.get("url"), events=changes.get("events"))
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    with transaction.atomic():
        locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
        resumed = changes.get("active") is True and not locked.active
        for field, value in changes.items():
            setattr(locked, field, value)
        if resumed:
            locked.paused_at = None
            locked.pause_reason = ""
            locked.consecutive_failures = 0
            passes.request(CHAIN, locked.pk)
        locked.save()
    return locked


def subscription_delete(*, subscription: Subscription) -> None:
    subscription.delete()


def events_record(*, events: list[realtime.Event], **kwargs: Any) -> None:
    """Keep each published event for every active subscription of its organization that
    wants its type, in the publisher's transaction, and ask for their chains to run once
    it commits (``conversations.signals.events_published``)."""
    types = sorted({e.type.value for e in events})
    subscriptions = list(
        Subscription.objects.filter(active=True, events__overlap=types).values_list(
            "pk", "organization_id", "events"
        )
    )
    if not subscriptions:
        return
    now = timezone.now()
    rows = []
    for event, organization_id in zip(events, realtime.event_organizations(events), strict=True):
        event_id = uuid.uuid4()
        for pk, subscription_org, wanted in subscriptions:
            if subscription_org == organization_id and event.type.value in wanted:
                rows.append(
                    WebhookEvent(
                        subscription_id=pk,
                        event_id=event_id,
                        type=event.type.value,
                        data=event.data,
                        occurred_at=now,
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    if rows:
        WebhookEvent.objects.bulk_create(rows)
        for pk in sorted({row.subscription_id for row in rows}):
            passes.request(CHAIN, pk)


def event_send_again(*, event: WebhookEvent) -> WebhookEvent:
    """Queue the event once more for its subscription, behind what it is owed already
    (same id and ``created_at`` in the body: a receiver sees a repeat)."""
    with transaction.atomic():
        again = WebhookEvent.objects.create(
            subscription_id=event.subscription_id,
            event_id=event.event_id,
            type=event.type,
            data=event.data,
            occurred_at=event.occurred_at,
        )
        passes.request(CHAIN, event.subscription_id)
    return again


@dataclass(frozen=True)
class Outcome:
    """What one POST of an event gave."""

    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def why(self) -> str:
        return self.error or f"the receiver answered {self.status_code}"


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure an event is tried again: doubling from
    ``WEBHOOK_RETRY_BASE_SECONDS`` up to ``WEBHOOK_RETRY_MAX_SECONDS``, each wait drawn
    between half and all of that (jitter: receivers that fail together are not all
    called again at the same instant)."""
    ceiling = min(
        settings.WEBHOOK_RETRY_MAX_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return timedelta(seconds=ceiling * random.uniform(0.5, 1.0))


def attempt_record(*, event: WebhookEvent, outcome: Outcome, failures: int | None = None) -> bool:
    """Log an attempt and move its event on: delivered, or due again after a backoff. A
    subscription failing ``WEBHOOK_PAUSE_AFTER_FAILURES`` times in a row is paused with
    the reason, which its admin sees. Returns whether the subscription is paused now.

    ``failures``, the subscription's count of failures in a row as the caller last read
    it: a success after none (the common case) writes the attempt and the event only,
    without locking the subscription."""
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            event=event,
            attempted_at=now,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=outcome.response_excerpt[:RESPONSE_EXCERPT_CHARS],
            error=outcome.error[:300],
            succeeded=outcome.succeeded,
        )
        event.attempts += 1
        if outcome.succeeded:
            event.state = EventState.DELIVERED
            event.delivered_at = now
        else:
            event.next_attempt_at = now + retry_delay(event.attempts)
        event.save(update_fields=["attempts", "state", "delivered_at", "next_attempt_at"])
        if outcome.succeeded and failures == 0:
            return False
        subscription = Subscription.objects.select_for_update().get(pk=event.subscription_id)
        if outcome.succeeded:
            subscription.consecutive_failures = 0
        else:
            subscription.consecutive_failures += 1
            if subscription.consecutive_failures >= settings.WEBHOOK_PAUSE_AFTER_FAILURES:
                subscription.active = False
                subscription.paused_at = now
                subscription.pause_reason = (
                    f"Paused after {subscription.consecutive_failures} failed deliveries in a "
                    f"row; the last, of event {event.event_id}: {outcome.why()}. Turn it on "
                    "again to resume."
                )
        subscription.save(
            update_fields=["consecutive_failures", "active", "paused_at", "pause_reason"]
        )
    return not subscription.active


def deliveries_record(*, delivered: list[tuple[WebhookEvent, Outcome]]) -> None:
    """Log a run of successful attempts in one transaction (a chain writes its successes
    a few at a time: a crash before the write sends them again, which the event ids let
    a receiver tell)."""
    if not delivered:
        return
    now = timezone.now()
    with transaction.atomic():
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                event=event,
                attempted_at=now,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                response_excerpt=outcome.response_excerpt[:RESPONSE_EXCERPT_CHARS],
                succeeded=True,
            )
            for event, outcome in delivered
        )
        WebhookEvent.objects.filter(pk__in=[event.pk for event, _ in delivered]).update(
            state=EventState.DELIVERED, delivered_at=now, attempts=F("attempts") + 1
        )


def events_give_up(*, subscription_id: int) -> int:
    """Mark as failed the subscription's pending events older than the retry window
    (``WEBHOOK_RETRY_HOURS``); returns how many."""
    oldest = timezone.now() - timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    return WebhookEvent.objects.filter(
        subscription_id=subscription_id, state=EventState.PENDING, created_at__lt=oldest
    ).update(state=EventState.FAILED)


def subscriptions_overdue() -> list[int]:
    """Active subscriptions owed an event that is due, with no chain running: their
    chain's request was lost, or its retry comes now."""
    now = timezone.now()
    return list(
        Subscription.objects.filter(active=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(queue__state=EventState.PENDING, queue__next_attempt_at__lte=now)
        .values_list("pk", flat=True)
        .distinct()
    )


def chains_request(*, subscription_ids: list[int]) -> None:
    for pk in subscription_ids:
        passes.request(CHAIN, pk)


def log_trim() -> int:
    """Forget delivered and failed events (and their attempts) older than
    ``WEBHOOK_LOG_DAYS``; returns how many events."""
    oldest = timezone.now() - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    _, by_model = WebhookEvent.objects.filter(
        created_at__lt=oldest, state__in=[EventState.DELIVERED, EventState.FAILED]
    ).delete()
    return by_model.get(WebhookEvent._meta.label, 0)
