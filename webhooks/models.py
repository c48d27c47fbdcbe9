"""Event subscriptions, the outbox of their events and the log of every delivery attempt.

An event is stored once per subscription that wants it, in the transaction of the change
it reports (``services.events_record``); a subscription's events are delivered one after
the other in the order they were stored (``delivery.chain_run``), so a conversation's
events arrive in the order they happened."""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from conversations.models import Membership, Organization

# The longest response body kept in the delivery log.
RESPONSE_EXCERPT_CHARS = 500


class Subscription(models.Model):
    """An organization's URL and the event types it is sent (``conversations.events``)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=2000, help_text="Where each event is POSTed as JSON.")
    events = ArrayField(
        models.CharField(max_length=64),
        help_text="The event types sent (docs/events.md), e.g. message.created.",
    )
    secret = models.CharField(
        max_length=200,
        help_text="Signs every body: X-CXGear-Signature is sha256=<HMAC-SHA256 hex>.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Off: no events are kept or sent. Turning it on again resumes a paused one.",
    )
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Attempts that failed one after the other; a success sets it back to zero.
    consecutive_failures = models.IntegerField(default=0, editable=False)
    paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    pause_reason = models.TextField(blank=True, editable=False)
    # The delivery chain's claim: one worker thread at a time sends a subscription's
    # events, the one whose token is here until ``claimed_until`` (renewed per attempt).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["organization", "active"])]

    def __str__(self) -> str:
        return self.url


class EventState(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    # Not delivered within the retry window (``WEBHOOK_RETRY_HOURS``).
    FAILED = "failed"


class WebhookEvent(models.Model):
    """One event owed to one subscription (the outbox row)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="queue")
    # The event's id in the body: the same for every subscription and every attempt, so a
    # receiver can tell a repeat.
    event_id = models.UUIDField(default=uuid.uuid4)
    type = models.CharField(max_length=64)
    data = models.JSONField()
    # When the event happened: the body's ``created_at``, the same on a resend.
    occurred_at = models.DateTimeField(default=timezone.now)
    # When this row was queued: the retry window counts from here.
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=EventState.choices, default=EventState.PENDING)
    attempts = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The chain's next event: the subscription's oldest pending one.
            models.Index(
                fields=["subscription", "id"],
                condition=Q(state="pending"),
                name="webhooks_event_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class DeliveryAttempt(models.Model):
    """One POST of an event and what came back."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.IntegerField(null=True, blank=True)
    latency_ms = models.IntegerField()
    response_excerpt = models.TextField(blank=True)
    # Why the attempt failed without an answer (timeout, refused, address not allowed).
    error = models.CharField(max_length=300, blank=True)
    succeeded = models.BooleanField()

    class Meta:
        indexes = [models.Index(fields=["event", "-attempted_at"])]

    def __str__(self) -> str:
        return f"{self.event_id} {self.status_code or self.error}"
