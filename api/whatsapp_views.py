"""REST API v1: connecting WhatsApp numbers (admins only).

The answer carries the ``webhook_url`` to give Meta; the secrets are written, never read."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import ADMINS, ANY_MEMBER, Conflict, ScopedViewSet
from api.serializers import (
    PHONE_NUMBER_ID_UNUSABLE,
    TemplateSerializer,
    WhatsAppChannelInputSerializer,
    WhatsAppChannelSerializer,
)
from api.views import Pagination, validated_input
from channels_whatsapp import templates as whatsapp_templates
from conversations import selectors, services, templates
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

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Every member reads a number's templates (the dock offers them); the rest is
        # the admins'.
        if self.action == "templates":
            self.roles = {"GET": ANY_MEMBER}
        super().initial(request, *args, **kwargs)

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

    @extend_schema(
        summary="List a number's approved message templates",
        description="As last synced from the Cloud API (`GET /<business_account_id>/"
        "message_templates`): only approved ones, which may be sent.",
        responses={200: TemplateSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], pagination_class=Pagination)
    def templates(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        page = self.paginate_queryset(templates.channel_templates(channel=channel))
        return self.get_paginated_response(TemplateSerializer(page, many=True).data)

    @extend_schema(
        summary="Sync a number's message templates now",
        description="Reads every page of the business account's templates from the Cloud "
        "API and keeps them; answers the approved ones. 409 when the number has no "
        "`business_account_id`, 502 when the Cloud API cannot be read.",
        request=None,
        responses={
            200: TemplateSerializer(many=True),
            409: OpenApiResponse(OpenApiTypes.OBJECT, "The number has no business account id."),
            502: OpenApiResponse(OpenApiTypes.OBJECT, "The Cloud API could not be read."),
        },
    )
    @action(detail=True, methods=["post"], url_path="templates/sync")
    def sync_templates(self, request: Request, pk: str) -> Response:
        channel = self.get_object()
        if not channel.business_account_id:
            raise Conflict({"business_account_id": ["The number has no business account id."]})
        try:
            synced = whatsapp_templates.templates_sync(channel=channel)
        except whatsapp_templates.TemplateSyncError as exc:
            raise BadGateway(str(exc)) from exc
        return Response(TemplateSerializer(synced, many=True).data)


class BadGateway(exceptions.APIException):
    """The platform behind the request could not be read."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The Cloud API could not be reached."
    default_code = "bad_gateway"
