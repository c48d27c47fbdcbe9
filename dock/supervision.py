"""The supervision board: a server-rendered page that the browser keeps live.

The page carries its first state; ``static/js/supervision.js`` then follows the
organization's events on ``/ws/dock/`` and re-reads the supervision API after each. Its
actions go through the API (reassign, return to queue, close, capacity and skills) and,
for setting an agent Offline, through :func:`member_offline` here; every one of them
calls a service that records who did it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
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
from routing.candidates import transfer_candidates

# The read-only thread shows this many messages a page, the latest page first.
THREAD_PAGE_SIZE = 50


def _seconds_label(seconds: int | None) -> str:
    """``90`` → "1 min 30 s": a project's settings as people read them."""
    if not seconds:
        return ""
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes else "",
        f"{rest} s" if rest else "",
    ]
    return " ".join(part for part in parts if part)


def _projects(member: Membership) -> list[dict[str, Any]]:
    """Each project with its settings as labelled text and in seconds (for countdowns)."""
    return [
        {
            "id": project.pk,
            "name": project.name,
            "sla_seconds": project.sla_first_reply_seconds,
            "settings": [
                {
                    "label": "First reply target",
                    "value": _seconds_label(project.sla_first_reply_seconds) or "none",
                },
                {
                    "label": "Offers",
                    "value": f"accepted within {_seconds_label(project.offer_timeout_seconds)}"
                    if project.offer_timeout_seconds
                    else "off (assigned at once)",
                },
            ],
        }
        for project in selectors.member_projects(member=member).order_by("name")
    ]


def _sla_counts(member: Membership) -> list[dict[str, int]]:
    return [
        {"project": row.project, "open": row.open, "today": row.today}
        for row in presence_selectors.sla_breach_counts(member=member)
    ]


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
        "projects": _projects(member),
        "sla": _sla_counts(member),
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
    paginator = Paginator(
        selectors.conversation_messages(conversation=conversation), THREAD_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
    context = {
        "conversation": conversation,
        "messages": page,
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


@require_GET
@login_required
def board_sla(request: HttpRequest) -> JsonResponse:
    """Each project's first-reply breaches now (open) and today, for the board's counters."""
    member = _supervisor(request)
    return JsonResponse({"projects": _projects(member), "sla": _sla_counts(member)})


@require_GET
@login_required
def conversation_candidates(request: HttpRequest, pk: int) -> JsonResponse:
    """Who the conversation can go to, with their load; ``over_capacity`` marks those a
    supervisor must confirm (the board asks first)."""
    member = _supervisor(request)
    try:
        conversation = selectors.visible_conversations(member=member).get(pk=pk)
    except Conversation.DoesNotExist:
        return JsonResponse({"detail": "Not found."}, status=404)
    return JsonResponse(
        {
            "conversation": conversation.pk,
            "status": conversation.status,
            "agents": [
                {
                    "id": candidate.member.pk,
                    "name": candidate.member.user.display_name,
                    "presence": candidate.presence,
                    "open_count": candidate.open_count,
                    "max_open": candidate.max_open,
                    "over_capacity": candidate.over_capacity,
                }
                for candidate in transfer_candidates(conversation=conversation, member=member)
            ],
        }
    )
