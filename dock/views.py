"""The agent's dock: one page; everything after it loads travels over ``/ws/dock/``. And
the pages where someone changes their own password."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse

from conversations import services
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


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's page, with the new password set through ``user_access_update``: the
    person's API tokens, other sessions and open docks end; the session that made the
    change stays signed in."""

    def form_valid(self, form: Any) -> HttpResponse:
        services.user_access_update(user=form.user, password=form.cleaned_data["new_password1"])
        # Every session of the user is gone; this one is written back under a new key.
        update_session_auth_hash(self.request, form.user)
        return HttpResponseRedirect(self.get_success_url())


@admin.site.admin_view
def admin_password_change(request: HttpRequest) -> HttpResponseBase:
    """The admin's "Change password", as ``AdminSite.password_change`` builds it, on the
    page above."""
    request.current_app = admin.site.name
    return PasswordChangeView.as_view(
        form_class=AdminPasswordChangeForm,
        success_url=reverse("admin:password_change_done", current_app=admin.site.name),
        extra_context=admin.site.each_context(request),
    )(request)
