"""REST API v1: the caller (``me/``), their presence, and what supervisors watch."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import (
    CHAT_WORKERS,
    SUPERVISORS,
    ScopedAPIView,
)
from api.serializers import (
    MeSerializer,
    PresenceInputSerializer,
    PresenceSerializer,
    QueuedConversationSerializer,
)
from api.views import Pagination
from presence import selectors
from presence.models import PresenceSource, PresenceStatus
from presence.services import busy_reason_find, presence_set


class AgentLoadSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="member.pk")
    name = serializers.CharField(source="member.user.display_name")
    email = serializers.EmailField(source="member.user.email")
    role = serializers.CharField(source="member.role")
    skills = serializers.ListField(child=serializers.CharField(), source="member.skills")
    languages = serializers.ListField(child=serializers.CharField(), source="member.languages")
    presence = serializers.ChoiceField(choices=PresenceStatus.choices)
    presence_since = serializers.DateTimeField(allow_null=True)
    presence_reason = serializers.CharField(
        allow_null=True, help_text="Why they are Busy (one of the organization's reasons)."
    )
    open_count = serializers.IntegerField()
    max_open = serializers.IntegerField()
    oldest_waiting_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="How long the customer of their oldest unanswered chat has waited.",
    )
    oldest_waiting_conversation = serializers.IntegerField(allow_null=True)
    overloaded = serializers.BooleanField(help_text="`over_capacity` or `customer_waiting`.")
    over_capacity = serializers.BooleanField(help_text="More open chats than their maximum.")
    customer_waiting = serializers.BooleanField(
        help_text=f"A customer of theirs has waited {selectors.OVERLOADED_WAIT_SECONDS} "
        "seconds or more for an answer."
    )


class MeApi(ScopedAPIView):
    @extend_schema(summary="Who am I", responses={200: MeSerializer}, tags=["me"])
    def get(self, request: Request) -> Response:
        member = self.member
        presence = getattr(member, "presence", None)
        data = {
            "id": member.pk,
            "email": member.user.email,
            "name": member.user.display_name,
            "org": member.organization_id,
            "role": member.role,
            "presence": presence.status if presence else PresenceStatus.OFFLINE,
            "presence_since": presence.since if presence else None,
            "presence_reason": presence.reason_name if presence else None,
            "max_open": member.max_open,
            "open_count": member.open_conversations,
            "skills": member.skills,
            "languages": member.languages,
        }
        return Response(MeSerializer(data).data)


class MePresenceApi(ScopedAPIView):
    roles = {"PUT": CHAT_WORKERS}

    @extend_schema(
        summary="Set my presence",
        description="Presence set here stays as set: losing a dock connection does not "
        "turn it Offline. `busy` may carry a `reason` (an id or name of the organization's "
        "Busy reasons); it is shown with the time in the state and kept in the presence "
        "history.",
        request=PresenceInputSerializer,
        responses={200: PresenceSerializer},
        tags=["me"],
    )
    def put(self, request: Request) -> Response:
        data = PresenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        status, value = data.validated_data["status"], data.validated_data.get("reason")
        reason = None
        if value is not None:
            if status != PresenceStatus.BUSY:
                raise exceptions.ValidationError({"reason": ["A reason goes only with busy."]})
            try:
                reason = busy_reason_find(organization_id=self.member.organization_id, value=value)
            except DjangoValidationError as exc:
                raise exceptions.ValidationError({"reason": exc.messages}) from None
        presence = presence_set(
            member=self.member, status=status, source=PresenceSource.API, reason=reason
        )
        return Response(PresenceSerializer(presence).data)


class SupervisionAgentsApi(ScopedAPIView, GenericAPIView):  # type: ignore[misc]
    roles = {"GET": SUPERVISORS}
    pagination_class = Pagination
    serializer_class = AgentLoadSerializer

    @extend_schema(
        summary="Every agent's presence and load",
        responses={200: AgentLoadSerializer(many=True)},
        tags=["supervision"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.agent_loads(member=self.member))
        return self.get_paginated_response(AgentLoadSerializer(page, many=True).data)


class SupervisionQueueApi(ScopedAPIView, GenericAPIView):  # type: ignore[misc]
    roles = {"GET": SUPERVISORS}
    pagination_class = Pagination
    serializer_class = QueuedConversationSerializer

    @extend_schema(
        summary="Queued conversations, the longest waiting first",
        responses={200: QueuedConversationSerializer(many=True)},
        tags=["supervision"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(selectors.queued_conversations(member=self.member))
        data = QueuedConversationSerializer(page, many=True, context={"now": timezone.now()}).data
        return self.get_paginated_response(data)
