"""The reports and planning pages of the supervision area. Each is a page that carries
the organization's projects and agents; its script asks the API for the figures
(``reports/summary/``, ``planning/forecast/``) and draws them."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from conversations import selectors
from conversations.admin_scope import request_membership
from conversations.models import Membership

# The period the reports page opens on: the last four weeks and today.
OPENING_DAYS = 28


def _supervisor(request: HttpRequest) -> Membership:
    member = request_membership(request)
    if member is None or not request.user.has_perm("conversations.supervise"):
        raise PermissionDenied("Reports and planning are for supervisors and admins.")
    return member


def _choices(member: Membership) -> dict[str, object]:
    today = timezone.localdate()
    return {
        "projects": list(
            selectors.member_projects(member=member).order_by("name").values("id", "name")
        ),
        "agents": [
            {"id": m.pk, "name": m.user.display_name, "email": m.user.email}
            for m in selectors.member_members(member=member)
            .filter(role__in=("agent", "supervisor"))
            .order_by("user__email")
        ],
        "from": (today - timedelta(days=OPENING_DAYS - 1)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
        "timezone": timezone.get_current_timezone_name(),
    }


@require_GET
@login_required
@ensure_csrf_cookie
def reports(request: HttpRequest) -> HttpResponse:
    member = _supervisor(request)
    return render(
        request, "supervision/reports.html", {"member": member, "initial": _choices(member)}
    )


@require_GET
@login_required
@ensure_csrf_cookie
def planning(request: HttpRequest) -> HttpResponse:
    member = _supervisor(request)
    return render(
        request, "supervision/planning.html", {"member": member, "initial": _choices(member)}
    )
