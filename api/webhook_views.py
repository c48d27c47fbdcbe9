"""REST API v1: event webhooks (admins only): subscriptions, their delivery log and
"send again". The delivery itself is the ``webhooks`` app's (docs/webhooks.md)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import ADMINS, ScopedViewSet
from api.views import Pagination
from conversations.events import EventType
from conversations.models import Membership
from webhooks import selectors, services
from webhooks.models import DeliveryAttempt, Subscription

SECRET_MIN_LENGTH = 16


class SubscriptionSerializer(serializers.ModelSerializer):
    paused_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When repeated failures paused it (null: not paused).",
    )
    pause_reason = serializers.CharField(
        read_only=True, help_text="Why it was paused: the failures and the last one's cause."
    )

    class Meta:
        model = Subscription
        fields = [
            "id",
            "url",
            "events",
            "active",
            "description",
            "consecutive_failures",
            "paused_at",
            "pause_reason",
            "created_at",
        ]


class SubscriptionInputSerializer(serializers.Serializer):
    """``events`` are types of the catalogue (docs/events.md); ``secret`` is written, never
    read, and signs every body."""

    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[t.value for t in EventType]),
        allow_empty=False,
        max_length=len(EventType),
    )
    secret = serializers.CharField(
        write_only=True, min_length=SECRET_MIN_LENGTH, max_length=200, trim_whitespace=False
    )
    active = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.event_id", help_text="The body's `id`.")
    event_row = serializers.IntegerField(
        source="event_id", help_text="The queued event, for `send_again`."
    )
    type = serializers.CharField(source="event.type")
    state = serializers.CharField(source="event.state", help_text="pending, delivered or failed")

    class Meta:
        model = DeliveryAttempt
        fields = [
            "id",
            "event",
            "event_row",
            "type",
            "state",
            "attempted_at",
            "succeeded",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error",
        ]


class QueuedSerializer(serializers.Serializer):
    event_row = serializers.IntegerField()
    state = serializers.CharField()


def _invalid(failure: services.SubscriptionInvalid) -> exceptions.ValidationError:
    return exceptions.ValidationError(failure.errors)


@extend_schema_view(
    list=extend_schema(summary="List the organization's event subscriptions"),
    retrieve=extend_schema(summary="Read an event subscription"),
    create=extend_schema(
        summary="Subscribe a URL to event types",
        description="Each event is POSTed to `url` as JSON `{id, type, created_at, data}` "
        "signed `X-CXGear-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`, "
        "retried with backoff until a 2xx for up to 24 hours, in order per conversation. "
        "Repeated failures pause the subscription (`paused_at`, `pause_reason`); PATCH "
        "`active: true` resumes it. See docs/webhooks.md.",
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an event subscription",
        request=SubscriptionInputSerializer(partial=True),
        responses={200: SubscriptionSerializer},
    ),
    destroy=extend_schema(summary="Delete an event subscription and its log"),
)
class WebhookSubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = SubscriptionSerializer
    pagination_class = Pagination
    queryset = Subscription.objects.none()
    roles = {"*": ADMINS}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, member: Membership) -> Any:
        return selectors.member_subscriptions(member=member).order_by("id")

    def create(self, request: Request) -> Response:
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            subscription = services.subscription_create(
                organization=self.member.organization,
                created_by=self.member,
                **data.validated_data,
            )
        except services.SubscriptionInvalid as failure:
            raise _invalid(failure) from None
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        data = SubscriptionInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        try:
            subscription = services.subscription_update(
                subscription=subscription, **data.validated_data
            )
        except services.SubscriptionInvalid as failure:
            raise _invalid(failure) from None
        return Response(SubscriptionSerializer(subscription).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.subscription_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        summary="The subscription's delivery log, newest first",
        description="Every attempt: its event, HTTP status (null when nothing came back, "
        "with `error`), latency and the start of the response body.",
        responses={200: DeliveryAttemptSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=Pagination)
    def deliveries(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        page = self.paginate_queryset(selectors.subscription_attempts(subscription=subscription))
        return self.get_paginated_response(DeliveryAttemptSerializer(page, many=True).data)

    @extend_schema(
        summary="Send an event again",
        description="Queues the event (a delivery's `event_row`) once more, behind what the "
        "subscription is owed already; the body is the same, `id` included.",
        request=None,
        responses={201: QueuedSerializer},
    )
    @action(detail=True, methods=["post"], url_path="deliveries/<int:event_row>/send-again")
    def send_again(self, request: Request, pk: str, event_row: int) -> Response:
        subscription = self.get_object()
        event = (
            selectors.subscription_events(subscription=subscription).filter(pk=event_row).first()
        )
        if event is None:
            raise exceptions.NotFound("No such event of this subscription.")
        again = services.event_send_again(event=event)
        return Response({"event_row": again.pk, "state": again.state}, status=201)

    def get_serializer_class(self) -> type:
        if self.action == "deliveries":
            return DeliveryAttemptSerializer
        return SubscriptionSerializer
