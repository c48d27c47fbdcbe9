"""The supervision board: a server-rendered page that the browser keeps live.

The page carries its first state; ``static/js/supervision.js`` then follows the
organization's events on ``/ws/dock/`` and re-reads the supervision API after each. Its
actions go through the API (reassign, return to queue, close, capacity and skills) and,
for setting an agent Offline, through :func:`member_offline` here; every one of them
calls a service that records who did it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from api.presence_views import AgentLoadSerializer
from api.serializers import MemberSerializer, QueuedConversationSerializer
from conversations import selectors
from conversations.admin_scope import request_membership
from conversations.models import Conversation, Membership
from presence import selectors as presence_selectors
from presence.models import PresenceSource, PresenceStatus
from presence.services import presence_set


def _supervisor(request: HttpRequest) -> Membership:
    member = request_membership(request)
    if member is None or not request.user.has_perm("conversations.supervise"):
        raise PermissionDenied("The board is for supervisors and admins.")
    return member


@require_GET
@login_required
@ensure_csrf_cookie
def supervision(request: HttpRequest) -> HttpResponse:
    member = _supervisor(request)
    initial = {
        "me": member.pk,
        "agents": AgentLoadSerializer(
            presence_selectors.agent_loads(member=member), many=True
        ).data,
        "queue": QueuedConversationSerializer(
            presence_selectors.queued_conversations(member=member),
            many=True,
            context={"now": timezone.now()},
        ).data,
        "projects": list(selectors.member_projects(member=member).values("id", "name")),
    }
    return render(request, "supervision/board.html", {"initial": initial, "member": member})


@require_GET
@login_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A conversation, read-only: its context, thread and audit trail. ``?panel=1`` gives
    the fragment the board shows beside its tables."""
    member = _supervisor(request)
    try:
        conversation = selectors.visible_conversations(member=member).get(pk=pk)
    except Conversation.DoesNotExist:
        raise Http404("No such conversation.") from None
    context = {
        "conversation": conversation,
        "messages": selectors.conversation_messages(conversation=conversation),
        "events": conversation.events.select_related(
            "actor__user", "from_agent__user", "to_agent__user"
        ),
        "panel": request.GET.get("panel") == "1",
    }
    template = (
        "supervision/_conversation.html" if context["panel"] else "supervision/conversation.html"
    )
    return render(request, template, context)


@require_POST
@login_required
def member_offline(request: HttpRequest, pk: int) -> JsonResponse:
    """Set an agent Offline: their open chats then follow the offline rules of routing."""
    member = _supervisor(request)
    try:
        target = selectors.member_members(member=member).get(pk=pk)
    except Membership.DoesNotExist:
        return JsonResponse({"detail": "Not found."}, status=404)
    if not target.works_chats:
        return JsonResponse({"detail": "Only agents and supervisors have a presence."}, status=400)
    presence = presence_set(
        member=target, status=PresenceStatus.OFFLINE, source=PresenceSource.SUPERVISOR, actor=member
    )
    target = selectors.member_members(member=member).get(pk=pk)
    return JsonResponse(
        {**MemberSerializer(target).data, "presence_since": presence.since.isoformat()}
    )
