"""Who may call what in the REST API, and the one place that scopes it.

Every API view derives from :class:`ScopedAPIView` or :class:`ScopedViewSet`: the caller
must be a member of an organization, objects are looked up in querysets the selectors
already scoped to that organization (another organization's object is simply not
found: 404, never 403), and the role check for a single object runs only after that
object was found. Errors leave as JSON (:func:`api_exception_handler`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.viewsets import GenericViewSet

from api import idempotency
from api.models import IdempotentRequest
from api.schema import ApiAutoSchema
from api.throttles import CallerRateThrottle, CallerWriteRateThrottle
from conversations.media import InvalidAttachment
from conversations.messaging import ConversationClosed, InvalidMessage, OutsideServiceWindow
from conversations.models import Membership, Role
from conversations.services import EMAIL_UNUSABLE, EmailTaken, PasswordRefused
from conversations.templates import InvalidTemplate

ANY_MEMBER = frozenset(Role.values)
SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
CHAT_WORKERS = frozenset({Role.AGENT, Role.SUPERVISOR})


class Conflict(exceptions.APIException):
    """The request is well formed but the object's current state does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's current state does not allow this."
    default_code = "conflict"


def request_member(request: HttpRequest | Request) -> Membership | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.membership  # type: ignore[no-any-return]
    except Membership.DoesNotExist:
        return None


class IsMember(BasePermission):
    """An authenticated user who belongs to an organization (a bare superuser does not)."""

    message = "This account is not a member of any organization."

    def has_permission(self, request: Request, view: APIView) -> bool:
        # Anonymous callers get DRF's 401, which names the missing credentials.
        return request_member(request) is not None


class HasRole(BasePermission):
    """The roles a view allows, by HTTP method: ``view.roles = {"GET": ..., "POST": ...}``.

    On a single object (a URL with an id) the check waits for the object: it is looked up
    in the caller's organization first, so a foreign id is 404 whoever asks."""

    message = "Your role does not allow this."

    def _allowed(self, request: Request, view: APIView) -> bool:
        roles: Mapping[str, frozenset[str]] = getattr(view, "roles", {})
        method = "GET" if request.method == "HEAD" else request.method or ""
        allowed = roles.get(method, roles.get("*", frozenset()))
        member = request_member(request)
        return member is not None and member.role in allowed

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method == "OPTIONS":
            return True
        if getattr(view, "lookup_url_kwarg", None) in view.kwargs or "pk" in view.kwargs:
            return True
        return self._allowed(request, view)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return request.method == "OPTIONS" or self._allowed(request, view)


def _service_error(exc: Exception) -> exceptions.APIException | None:
    """The services refuse with plain exceptions; the API answers each as a 4xx."""
    if isinstance(exc, InvalidMessage):
        return exceptions.ValidationError({"text": [str(exc)]})
    if isinstance(exc, InvalidAttachment):
        return exceptions.ValidationError({"file": [str(exc)]})
    if isinstance(exc, EmailTaken):
        return exceptions.ValidationError({"email": [EMAIL_UNUSABLE]})
    if isinstance(exc, PasswordRefused):
        return exceptions.ValidationError({"password": exc.messages})
    if isinstance(exc, InvalidTemplate):
        return exceptions.ValidationError({"template": [str(exc)]})
    if isinstance(exc, OutsideServiceWindow):
        # Named, so a client can offer a template instead.
        return Conflict({"detail": str(exc), "code": "outside_service_window"})
    if isinstance(exc, ConversationClosed):
        return Conflict(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        # A service's refusal given the object's current state (already closed, agent
        # offline or full...): the request was well formed.
        return Conflict("; ".join(exc.messages))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    return None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    translated = _service_error(exc)
    if translated is not None:
        exc = translated
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


class ScopedAPIView(APIView):
    """An API view that knows the calling member and answers errors as JSON. Every one
    is limited per caller (``api.throttles``) and every POST honours an
    ``Idempotency-Key`` (``api.idempotency``), with no code in the view."""

    permission_classes = [IsMember, HasRole]
    throttle_classes = [CallerRateThrottle, CallerWriteRateThrottle]
    schema = ApiAutoSchema()
    roles: Mapping[str, frozenset[str]] = {"*": ANY_MEMBER}
    _idempotent: IdempotentRequest | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._idempotent = None
        super().initial(request, *args, **kwargs)  # authenticated, allowed, not throttled
        self._idempotent = idempotency.begin(request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if self._idempotent is not None:
            idempotency.finish(self._idempotent, response)
            self._idempotent = None
        return super().finalize_response(request, response, *args, **kwargs)

    @property
    def member(self) -> Membership:
        member = request_member(self.request)
        if member is None:  # IsMember ran first; this is a programming error
            raise exceptions.PermissionDenied(IsMember.message)
        return member

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return api_exception_handler


class ScopedViewSet(ScopedAPIView, GenericViewSet):  # type: ignore[misc]
    """Objects come from ``scoped_queryset(member)``, always built on a selector."""

    lookup_value_converter = "int"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def scoped_queryset(self, member: Membership) -> Any:
        raise NotImplementedError

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return super().get_queryset()
        return self.scoped_queryset(self.member)


@csrf_exempt  # nothing is changed here; a JSON 404 must not become an HTML 403
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under the API: a JSON 404, never the HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)
