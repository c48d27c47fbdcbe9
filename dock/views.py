"""The agent's dock: one page; everything after it loads travels over ``/ws/dock/``."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from conversations.models import Membership


@login_required
def dock(request: HttpRequest) -> HttpResponse:
    """Agents and supervisors work here; an admin, who takes no chats, goes to the admin."""
    # A user without a membership has no ``membership`` attribute (the reverse one-to-one
    # raises an AttributeError), so this also covers a bare superuser.
    member: Membership | None = getattr(request.user, "membership", None)
    if member is None or not member.works_chats:
        return redirect("admin:index")
    return render(request, "dock/dock.html", {"member": member})
