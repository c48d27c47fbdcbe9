"""REST API v1: connecting WhatsApp numbers (admins only).

The answer carries the ``webhook_url`` to give Meta; the secrets are written, never read."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import ADMINS, ScopedViewSet
from api.serializers import (
    PHONE_NUMBER_ID_UNUSABLE,
    WhatsAppChannelInputSerializer,
    WhatsAppChannelSerializer,
)
from api.views import Pagination, validated_input
from conversations import selectors, services
from conversations.models import Channel, ChannelKind, Membership

TAKEN = {"phone_number_id": [PHONE_NUMBER_ID_UNUSABLE]}


@extend_schema_view(
    list=extend_schema(summary="List the organization's WhatsApp numbers"),
    retrieve=extend_schema(summary="Read a WhatsApp number"),
    create=extend_schema(
        summary="Connect a WhatsApp number",
        request=WhatsAppChannelInputSerializer,
        responses={201: WhatsAppChannelSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a WhatsApp number",
        request=WhatsAppChannelInputSerializer(partial=True),
        responses={200: WhatsAppChannelSerializer},
    ),
)
class WhatsAppChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = WhatsAppChannelSerializer
    pagination_class = Pagination
    queryset = Channel.objects.none()
    roles = {"*": ADMINS}

    def scoped_queryset(self, member: Membership) -> Any:
        return (
            selectors.member_channels(member=member)
            .filter(kind=ChannelKind.WHATSAPP)
            .order_by("created_at", "id")
        )

    def create(self, request: Request) -> Response:
        data = validated_input(WhatsAppChannelInputSerializer, request, self.member)
        try:
            channel = services.channel_create(organization=self.member.organization, **data)
        except IntegrityError:  # a concurrent request connected the number first
            raise exceptions.ValidationError(TAKEN) from None
        return Response(WhatsAppChannelSerializer(channel).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        data = validated_input(
            WhatsAppChannelInputSerializer, request, self.member, instance=channel, partial=True
        )
        try:
            channel = services.channel_update(channel=channel, **data)
        except IntegrityError:
            raise exceptions.ValidationError(TAKEN) from None
        return Response(WhatsAppChannelSerializer(channel).data)
