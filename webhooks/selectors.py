"""Reads of the event webhooks, scoped to the reader's organization."""

from __future__ import annotations

from django.db.models import QuerySet

from conversations.models import Membership
from webhooks.models import DeliveryAttempt, Subscription, WebhookEvent


def member_subscriptions(*, member: Membership) -> QuerySet[Subscription]:
    return Subscription.objects.filter(organization_id=member.organization_id)


def subscription_attempts(*, subscription: Subscription) -> QuerySet[DeliveryAttempt]:
    """Every attempt of the subscription's events, newest first."""
    return (
        DeliveryAttempt.objects.filter(event__subscription=subscription)
        .select_related("event")
        .order_by("-attempted_at", "-id")
    )


def subscription_events(*, subscription: Subscription) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(subscription=subscription)
