"""REST API v1: auth, the organization's set-up (projects, members) and conversations.

Views are thin: an input serializer validates, one service acts, an output serializer
answers. Scoping and roles live in ``api.permissions``."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import authenticate, update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, parsers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import throttle
from api.parsers import JSONParser
from api.permissions import (
    ADMINS,
    ANY_MEMBER,
    SUPERVISORS,
    ScopedAPIView,
    ScopedViewSet,
)
from api.serializers import (
    PROJECT_NAME_TAKEN,
    CloseInputSerializer,
    ConversationFilterSerializer,
    ConversationSerializer,
    ConversationStartInputSerializer,
    ConversationUpdateInputSerializer,
    MemberCreateInputSerializer,
    MemberSerializer,
    MemberUpdateInputSerializer,
    MessageFileInputSerializer,
    MessageInputSerializer,
    MessageQueuedSerializer,
    MessageSerializer,
    ProjectInputSerializer,
    ProjectSerializer,
    QuickReplyInputSerializer,
    QuickReplySerializer,
    TokenInputSerializer,
    TokenSerializer,
    TransferInputSerializer,
)
from conversations import audit, quick_replies, search, selectors, services
from conversations.media import message_send_media
from conversations.media_kinds import MediaState
from conversations.messaging import message_add_note, message_send_template, message_send_text
from conversations.models import Conversation, Membership, Project, QuickReply, Role
from conversations.services import EMAIL_UNUSABLE
from routing.services import (
    conversation_close,
    conversation_start,
    conversation_transfer,
    conversation_update,
)


class Pagination(PageNumberPagination):
    """``results`` and ``next``; a page that does not exist is a 400 naming ``page``."""

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        raw = request.query_params.get(self.page_query_param) or 1
        if raw in self.last_page_strings:
            return raw
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                {"page": ["A page number is a whole number."]}
            ) from None
        if number < 1:
            raise exceptions.ValidationError({"page": ["Pages start at 1."]})
        return number

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size  # type: ignore[return-value]
        try:
            size = int(raw)
        except ValueError:
            raise exceptions.ValidationError({"page_size": ["A whole number."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Between 1 and {self.max_page_size}."]}
            )
        return size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except exceptions.NotFound:
            raise exceptions.ValidationError({"page": ["That page does not exist."]}) from None


def _scopes(member: Membership) -> dict[str, Any]:
    """The querysets an input may reference, all of the caller's organization."""
    return {
        "projects": selectors.member_projects(member=member),
        "agents": selectors.member_members(member=member).filter(
            role__in=[Role.AGENT, Role.SUPERVISOR]
        ),
        "channels": selectors.member_channels(member=member),
    }


def validated_input(
    serializer_class: type, request: Request, member: Membership, **kwargs: Any
) -> Any:
    serializer = serializer_class(data=request.data, context={"scopes": _scopes(member)}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- auth -------------------------------------------------------------------------------


class TokenApi(ScopedAPIView):
    """Trade an e-mail and password for the API token of that person."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttled_possible = True

    @extend_schema(
        request=TokenInputSerializer,
        responses={200: TokenSerializer},
        summary="Get the API token of a member",
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None:
            lockout = throttle.lockout_of(request._request)
            if lockout is not None:
                # DRF adds the wait to the reason, and sends it as Retry-After.
                raise exceptions.Throttled(wait=lockout.retry_after, detail=lockout.why)
            raise exceptions.ValidationError(
                {"non_field_errors": ["E-mail and password do not match an active account."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


# --- projects ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the organization's projects"),
    retrieve=extend_schema(summary="Read a project"),
    create=extend_schema(
        summary="Create a project",
        request=ProjectInputSerializer,
        responses={201: ProjectSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a project's name, metadata, first-reply target or offer timeout",
        request=ProjectInputSerializer(partial=True),
        responses={200: ProjectSerializer},
    ),
)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = ProjectSerializer
    pagination_class = Pagination
    queryset = Project.objects.none()
    roles = {"GET": ANY_MEMBER, "POST": ADMINS, "PATCH": ADMINS}

    def scoped_queryset(self, member: Membership) -> Any:
        return selectors.member_projects(member=member).order_by("name", "id")

    def create(self, request: Request) -> Response:
        data = validated_input(ProjectInputSerializer, request, self.member)
        try:
            project = services.project_create(organization=self.member.organization, **data)
        except IntegrityError:  # a concurrent create took the name first
            raise exceptions.ValidationError({"name": [PROJECT_NAME_TAKEN]}) from None
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        project = self.get_object()
        data = validated_input(
            ProjectInputSerializer, request, self.member, instance=project, partial=True
        )
        try:
            project = services.project_update(project=project, **data)
        except IntegrityError:
            raise exceptions.ValidationError({"name": [PROJECT_NAME_TAKEN]}) from None
        return Response(ProjectSerializer(project).data)


# --- members ----------------------------------------------------------------------------

# What a supervisor may change on the board; everything else about a member is the admin's.
SUPERVISOR_MEMBER_FIELDS = frozenset({"max_open", "skills"})


@extend_schema_view(
    list=extend_schema(summary="List the organization's members"),
    retrieve=extend_schema(summary="Read a member"),
    create=extend_schema(
        summary="Add a member (a new sign-in with an API token)",
        request=MemberCreateInputSerializer,
        responses={201: MemberSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a member",
        description="Admins change anything but the e-mail; supervisors only an agent's "
        "`max_open` and `skills`. A new `password` must pass the password validators (400 "
        "naming `password`); a platform account's (a superuser's) is not the organization's "
        "to change (403). Every change is recorded with who made it.",
        request=MemberUpdateInputSerializer,
        responses={200: MemberSerializer},
    ),
)
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = MemberSerializer
    pagination_class = Pagination
    queryset = Membership.objects.none()
    roles = {"GET": SUPERVISORS, "POST": ADMINS, "PATCH": SUPERVISORS}

    def scoped_queryset(self, member: Membership) -> Any:
        return selectors.member_members(member=member).order_by("user__email")

    def create(self, request: Request) -> Response:
        data = validated_input(MemberCreateInputSerializer, request, self.member)
        try:
            member = services.member_create(organization=self.member.organization, **data)
        except IntegrityError:  # a concurrent create took the e-mail first
            raise exceptions.ValidationError({"email": [EMAIL_UNUSABLE]}) from None
        return Response(MemberSerializer(member).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        target = self.get_object()
        changes = validated_input(MemberUpdateInputSerializer, request, self.member)
        if self.member.role != Role.ADMIN:
            refused = sorted(set(changes) - SUPERVISOR_MEMBER_FIELDS)
            if refused:
                raise exceptions.PermissionDenied(
                    f"Supervisors may change only max_open and skills, not {', '.join(refused)}."
                )
            if target.role == Role.ADMIN:
                raise exceptions.PermissionDenied("Supervisors may not change an admin.")
        with transaction.atomic():
            target = services.member_update(member=target, actor=self.member, **changes)
            audit.member_changed(actor=self.member, member=target, changes=changes)
        if "password" in changes and target.user_id == self.member.user_id and request.auth is None:
            # An admin who set their own password with their session (the browsable API)
            # stays signed in there; their tokens and other sessions ended.
            update_session_auth_hash(request._request, target.user)
        target = self.get_queryset().get(pk=target.pk)
        return Response(MemberSerializer(target).data)


# --- conversations ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List conversations",
        description="Agents see their own; supervisors and admins the organization's.",
        parameters=[ConversationFilterSerializer],
    ),
    retrieve=extend_schema(summary="Read a conversation"),
    create=extend_schema(
        summary="Start a conversation with a customer by template",
        description="Supervisors and admins (integrators). The customer's open conversation "
        "on the number takes the template if they have one; else a new one is opened and "
        "given to `agent` if they are Available with room, otherwise to routing. The "
        "template must be an approved one of the number (400 naming `template` if not).",
        request=ConversationStartInputSerializer,
        responses={201: ConversationSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a conversation's routing needs",
        description="Routing looks at the conversation again with the new needs.",
        request=ConversationUpdateInputSerializer,
        responses={200: ConversationSerializer},
    ),
)
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    serializer_class = ConversationSerializer
    pagination_class = Pagination
    queryset = Conversation.objects.none()
    roles = {"GET": ANY_MEMBER, "PATCH": ANY_MEMBER, "POST": ANY_MEMBER}
    conflict_possible = True

    def scoped_queryset(self, member: Membership) -> Any:
        return selectors.visible_conversations(member=member).order_by("-created_at", "-id")

    def filter_queryset(self, queryset: Any) -> Any:
        if self.action != "list":
            return queryset
        filters = ConversationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(filters.validated_data)
        text = values.pop("search", None)
        lookups = {
            {"agent": "agent_id", "project": "project_id"}.get(name, name): value
            for name, value in values.items()
        }
        queryset = queryset.filter(**lookups)
        if text is not None:
            queryset = search.conversations_matching(queryset, text)
        return queryset

    def create(self, request: Request) -> Response:
        if not self.member.supervises:
            raise exceptions.PermissionDenied("Only a supervisor or an admin may start one.")
        data = validated_input(ConversationStartInputSerializer, request, self.member)
        conversation = conversation_start(
            channel=data["channel"],
            wa_id=data["wa_id"],
            actor=self.member,
            template=data["template"],
            agent=data.get("agent"),
        )
        return Response(
            ConversationSerializer(self._fresh(conversation)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        conversation = self.get_object()
        changes = validated_input(ConversationUpdateInputSerializer, request, self.member)
        conversation_update(conversation=conversation, actor=self.member, **changes)
        return Response(ConversationSerializer(self._fresh(conversation)).data)

    def _fresh(self, conversation: Conversation) -> Conversation:
        # Read back unscoped: an agent who just transferred the chat away no longer sees it.
        return Conversation.objects.select_related("contact", "agent__user").get(pk=conversation.pk)

    @extend_schema(
        methods=["GET"],
        summary="List a conversation's messages, oldest first",
        responses={200: MessageSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Send a text, a template or an attachment, or keep an internal note",
        description='JSON `{"text"}` sends a text; `{"template": {"name", "language", '
        '"parameters"}}` an approved template of the number (one parameter for each '
        "placeholder of its body); multipart `file` (+ `text` as its caption) an attachment, "
        "as an image, video, audio, sticker or document by its type. A file of a type or "
        "size WhatsApp does not take is a 400 naming `file`, before anything is kept. Stored "
        "as `queued` and sent after commit (an attachment is uploaded to WhatsApp first); "
        "its status then moves to `sent`, `delivered`, `read`, or `failed` with `error`. "
        "Anything but a template is refused (409, `code` `outside_service_window`) when the "
        "customer's last message is older than WhatsApp's 24-hour customer service window. "
        'With `"private": true` the text is an internal note (`direction: note`, no status): '
        "kept in the thread for the team, never sent, no reply to the customer.",
        request={
            "application/json": MessageInputSerializer,
            "multipart/form-data": MessageFileInputSerializer,
        },
        responses={201: MessageQueuedSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        pagination_class=Pagination,
        parser_classes=[JSONParser, parsers.MultiPartParser],
    )
    def messages(self, request: Request, pk: str) -> Response:
        conversation = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(
                selectors.conversation_messages(conversation=conversation)
            )
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        if (request.content_type or "").startswith("multipart/"):
            data = validated_input(MessageFileInputSerializer, request, self.member)
            message = message_send_media(
                conversation=conversation,
                sender=self.member,
                upload=data["file"],
                caption=data.get("text", ""),
            )
        else:
            data = validated_input(MessageInputSerializer, request, self.member)
            if data["private"]:
                message = message_add_note(
                    conversation=conversation, author=self.member, text=data["text"]
                )
            elif "template" in data:
                message = message_send_template(
                    conversation=conversation, sender=self.member, **data["template"]
                )
            else:
                message = message_send_text(
                    conversation=conversation, sender=self.member, text=data["text"]
                )
        return Response({"id": message.pk, "status": message.status}, status=201)

    @extend_schema(
        summary="Close a conversation with its outcome",
        description="The assigned agent, a supervisor or an admin.",
        request=CloseInputSerializer,
        responses={200: ConversationSerializer},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        conversation = self._for_action()
        data = validated_input(CloseInputSerializer, request, self.member)
        conversation_close(conversation=conversation, actor=self.member, outcome=data["outcome"])
        return Response(ConversationSerializer(self._fresh(conversation)).data)

    @extend_schema(
        summary="Transfer a conversation",
        description="`agent`: to that colleague. `skill` (or neither): back to routing, "
        "needing that skill. The assigned agent, a supervisor or an admin. A colleague "
        "who is Available with room takes it at once. One who is full or Busy: an agent's "
        "transfer answers 200 with the conversation `queued` and `waiting_for` that "
        "colleague, who gets it as soon as they have room (or anyone, after "
        "ROUTING_TRANSFER_WAIT_SECONDS); a supervisor's lands with them at once, over "
        "their capacity, recorded in the audit trail. `wait` chooses otherwise (an agent "
        "cannot land a chat over capacity: 403). An Offline or ineligible colleague: 400.",
        request=TransferInputSerializer,
        responses={200: ConversationSerializer},
    )
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: str) -> Response:
        conversation = self._for_action()
        data = validated_input(TransferInputSerializer, request, self.member)
        conversation_transfer(
            conversation=conversation,
            actor=self.member,
            to_agent=data.get("agent"),
            skill=data.get("skill") or None,
            note=data.get("note", ""),
            wait=data.get("wait"),
        )
        return Response(ConversationSerializer(self._fresh(conversation)).data)

    def _for_action(self) -> Conversation:
        conversation: Conversation = self.get_object()
        if not self.member.supervises and conversation.agent_id != self.member.pk:
            raise exceptions.PermissionDenied("Only the assigned agent or a supervisor may.")
        return conversation

    # The action responses list messages with a different serializer.
    def get_serializer_class(self) -> type:
        if self.action == "messages":
            return MessageSerializer
        return ConversationSerializer


# --- media ------------------------------------------------------------------------------


class MediaApi(ScopedAPIView):
    """A message's file, for whoever may read its conversation: another organization's,
    or a file not kept, is 404. Streamed from the storage in chunks; the file is the
    customer's, so it is never run as a page (``sandbox``) nor sniffed for another type."""

    @extend_schema(
        summary="Read a message's file",
        description="The file a message's `media.url` points at, with its content type and "
        "`Content-Disposition` (documents download, other media show inline).",
        responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file")},
        tags=["media"],
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        message = selectors.visible_messages(member=self.member).filter(pk=pk).first()
        media = message.media if message is not None else {}
        if message is None or not message.file or media.get("state") != MediaState.READY:
            raise exceptions.NotFound()
        mime_type = str(media.get("mime_type") or "application/octet-stream")
        response = FileResponse(
            message.file.open("rb"),
            content_type=mime_type.split(";", 1)[0].strip() or "application/octet-stream",
            as_attachment=message.type == "document",
            filename=str(media.get("filename") or _default_name(message.pk, mime_type)),
        )
        response["Cache-Control"] = "private, max-age=3600"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


def _default_name(message_id: int, mime_type: str) -> str:
    extension = mimetypes.guess_extension(mime_type.split(";", 1)[0].strip()) or ""
    if mime_type.startswith("audio/ogg"):
        extension = ".ogg"
    return f"{message_id}{extension}"


# --- quick replies ----------------------------------------------------------------------


@contextmanager
def _bad_input() -> Iterator[None]:
    """The quick-reply services refuse an input (a shortcut taken meanwhile) with the
    field it names: a 400, as the input check would have said."""
    try:
        yield
    except DjangoValidationError as exc:
        raise exceptions.ValidationError(exc.message_dict) from None


@extend_schema_view(
    list=extend_schema(
        summary="List the organization's quick replies",
        description="Every project's and those for all projects (`project` null).",
    ),
    retrieve=extend_schema(summary="Read a quick reply"),
    create=extend_schema(
        summary="Add a quick reply",
        request=QuickReplyInputSerializer,
        responses={201: QuickReplySerializer},
    ),
    partial_update=extend_schema(
        summary="Change a quick reply",
        request=QuickReplyInputSerializer(partial=True),
        responses={200: QuickReplySerializer},
    ),
    destroy=extend_schema(summary="Delete a quick reply", responses={204: None}),
)
class QuickReplyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Agents read them (the dock offers them after /); supervisors and admins keep them."""

    serializer_class = QuickReplySerializer
    pagination_class = Pagination
    queryset = QuickReply.objects.none()
    roles = {"GET": ANY_MEMBER, "POST": SUPERVISORS, "PATCH": SUPERVISORS, "DELETE": SUPERVISORS}
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def scoped_queryset(self, member: Membership) -> Any:
        return selectors.member_quick_replies(member=member)

    def create(self, request: Request) -> Response:
        data = validated_input(QuickReplyInputSerializer, request, self.member)
        with _bad_input():
            reply = quick_replies.quick_reply_create(organization=self.member.organization, **data)
        return Response(QuickReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        reply = self.get_object()
        data = validated_input(QuickReplyInputSerializer, request, self.member, partial=True)
        with _bad_input():
            reply = quick_replies.quick_reply_update(quick_reply=reply, **data)
        return Response(QuickReplySerializer(reply).data)

    def destroy(self, request: Request, pk: str) -> Response:
        quick_replies.quick_reply_delete(quick_reply=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
