"""The delivery chain: one subscription's events, sent one after the other.

At most one chain runs per subscription, the one that holds its claim (a conditional
UPDATE of the subscription row with a token and a lease, renewed after each attempt; a
chain that dies lets its claim lapse). A chain takes the oldest pending event, waits for
it if it is not due (a failed one backs off), and never passes it: a conversation's
events therefore arrive in order, and a receiver that fails holds back only its own
events. Chains run in threads of their own (``tasks.deliver``), each with short HTTP
timeouts, so one receiver's slowness never delays another's."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import timedelta

import httpx
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from webhooks import services
from webhooks.addresses import UrlRefused, url_check
from webhooks.models import RESPONSE_EXCERPT_CHARS, EventState, Subscription, WebhookEvent
from webhooks.signing import SIGNATURE_HEADER, signature

logger = logging.getLogger(__name__)

# How long a chain runs before it hands over to a fresh task (others get their turn in
# the worker's threads).
CHAIN_BUDGET_SECONDS = 60.0
# Pending events read at once by a chain (it sends them one by one, in order).
BATCH = 100
# Successes are written this many at a time (a failure writes them at once, then itself).
RECORD_EVERY = 20


def lease() -> timedelta:
    """How long a claim lasts without renewal: longer than any one attempt."""
    return timedelta(seconds=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 30)


def chain_claim(subscription_id: int, token: uuid.UUID) -> bool:
    """Take the subscription's chain unless a live chain holds it (another process got
    there first: it sends the events)."""
    now = timezone.now()
    return bool(
        Subscription.objects.filter(pk=subscription_id, active=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claim_token=token, claimed_until=now + lease())
    )


def _renew(subscription_id: int, token: uuid.UUID) -> bool:
    return bool(
        Subscription.objects.filter(pk=subscription_id, claim_token=token).update(
            claimed_until=timezone.now() + lease()
        )
    )


def _release(subscription_id: int, token: uuid.UUID) -> None:
    Subscription.objects.filter(pk=subscription_id, claim_token=token).update(
        claim_token=None, claimed_until=None
    )


def _due_pending(subscription_id: int) -> bool:
    return WebhookEvent.objects.filter(
        subscription_id=subscription_id,
        state=EventState.PENDING,
        next_attempt_at__lte=timezone.now(),
    ).exists()


def body_of(event: WebhookEvent) -> bytes:
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.type,
            "created_at": event.occurred_at.isoformat(),
            "data": event.data,
        },
        separators=(",", ":"),
    ).encode()


def post(client: httpx.Client, subscription: Subscription, event: WebhookEvent) -> services.Outcome:
    """POST one event, signed; what came back, or why nothing did."""
    body = body_of(event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "CXGear-Webhooks/1",
        SIGNATURE_HEADER: signature(secret=subscription.secret, body=body),
        "X-CXGear-Event": event.type,
        "X-CXGear-Delivery": str(event.event_id),
    }
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        url_check(subscription.url)
        with client.stream("POST", subscription.url, content=body, headers=headers) as response:
            excerpt = b""
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_CHARS:
                    break
            return services.Outcome(
                status_code=response.status_code,
                latency_ms=elapsed(),
                response_excerpt=excerpt[:RESPONSE_EXCERPT_CHARS].decode(errors="replace"),
            )
    except UrlRefused as refused:
        return services.Outcome(status_code=None, latency_ms=elapsed(), error=str(refused))
    except httpx.TimeoutException:
        return services.Outcome(
            status_code=None,
            latency_ms=elapsed(),
            error=f"no answer within {settings.WEBHOOK_TIMEOUT_SECONDS} s",
        )
    except httpx.HTTPError as failed:
        return services.Outcome(
            status_code=None, latency_ms=elapsed(), error=f"{type(failed).__name__}: {failed}"
        )


class NextRun:
    """Why a walk stopped: its queue ran dry (look again after letting go), or the chain
    runs again at ``retry_in`` seconds (None: when asked)."""

    def __init__(self, *, dry: bool = False, retry_in: float | None = None) -> None:
        self.dry = dry
        self.retry_in = retry_in


def _walk(client: httpx.Client, subscription_id: int, token: uuid.UUID) -> NextRun:
    """Send the subscription's due events in order, a batch read at a time, until none is
    due, one fails (it is due again later: nothing behind it passes it), the subscription
    is paused or turned off, or the chain's time is up."""
    started = time.monotonic()
    renewed = started
    services.events_give_up(subscription_id=subscription_id)
    while True:
        subscription = Subscription.objects.filter(pk=subscription_id, active=True).first()
        if subscription is None:
            return NextRun()
        batch = list(
            WebhookEvent.objects.filter(
                subscription_id=subscription_id, state=EventState.PENDING
            ).order_by("id")[:BATCH]
        )
        if not batch:
            return NextRun(dry=True)
        delivered: list[tuple[WebhookEvent, services.Outcome]] = []
        try:
            for event in batch:
                now = timezone.now()
                wait = (event.next_attempt_at - now).total_seconds()
                if wait > 0:
                    return NextRun(retry_in=wait)
                if event.created_at < now - timedelta(hours=settings.WEBHOOK_RETRY_HOURS):
                    services.events_give_up(subscription_id=subscription_id)
                    break  # read the batch again
                outcome = post(client, subscription, event)
                if outcome.succeeded and subscription.consecutive_failures == 0:
                    delivered.append((event, outcome))
                    if len(delivered) >= RECORD_EVERY:
                        services.deliveries_record(delivered=delivered)
                        delivered = []
                else:
                    services.deliveries_record(delivered=delivered)
                    delivered = []
                    if services.attempt_record(
                        event=event, outcome=outcome, failures=subscription.consecutive_failures
                    ):
                        return NextRun()  # paused
                    if not outcome.succeeded:
                        retry_in = (event.next_attempt_at - timezone.now()).total_seconds()
                        return NextRun(retry_in=retry_in)
                    subscription.consecutive_failures = 0
                if time.monotonic() - started > CHAIN_BUDGET_SECONDS:
                    return NextRun(retry_in=0)
                if time.monotonic() - renewed > lease().total_seconds() / 3:
                    if not _renew(subscription_id, token):
                        return NextRun()  # the claim lapsed and another chain took over
                    renewed = time.monotonic()
        finally:
            services.deliveries_record(delivered=delivered)


def chain_run(subscription_id: int, *, schedule: bool = True) -> None:
    """Send the subscription's due events, in order, while this chain holds its claim.
    With ``schedule``, a chain that stops at an event not yet due asks for itself again
    at that time (beat's sweep covers a request that is lost)."""
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS, connect=2.0)
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        while True:
            token = uuid.uuid4()
            if not chain_claim(subscription_id, token):
                return
            try:
                after = _walk(client, subscription_id, token)
            finally:
                _release(subscription_id, token)
            # An event committed while this chain was letting go found the claim taken:
            # look once more now that it is free.
            if after.dry and _due_pending(subscription_id):
                continue
            if after.retry_in is not None and schedule:
                import_string(services.CHAIN.task).apply_async(
                    (subscription_id,), countdown=after.retry_in
                )
            return
