"""The sign-in page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from accounts import throttle


class LoginView(auth_views.LoginView):
    """Django's login page; a sign-in refused by the throttle answers 429 with the page
    and says why and for how long."""

    def form_invalid(self, form: Any) -> HttpResponse:
        lockout = throttle.lockout_of(self.request)
        if lockout is None:
            return super().form_invalid(form)
        response = self.render_to_response(
            self.get_context_data(form=form, lockout=lockout), status=429
        )
        response["Retry-After"] = str(lockout.retry_after)
        return response
