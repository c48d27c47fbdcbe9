"""Failed sign-ins are throttled per e-mail and per client address, at every door that
signs someone in with a password (the login page, the API's ``auth/token/``, the admin's
login), since all of them go through ``conversations.auth.RoleBackend``.

The counting is django-ratelimit's, in the shared cache: each e-mail and each address
has a count of failures per window of ``SIGNIN_THROTTLE_WINDOW_SECONDS``. Once a count
reaches its limit, sign-ins for that e-mail (or from that address) are refused, the
right password included, until the window passes; a success resets nothing, so nobody
can end someone else's lockout by signing in. An address gets a higher limit than an
e-mail: a contact centre's agents share one behind their NAT."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

_LOCKOUT_ATTRIBUTE = "signin_lockout"


@dataclass(frozen=True)
class Lockout:
    """Why sign-ins are refused now (``email`` or ``address``) and for how long."""

    reason: str
    retry_after: int

    @property
    def why(self) -> str:
        whose = "for this e-mail address" if self.reason == "email" else "from this network address"
        return f"Too many failed sign-ins {whose}."

    @property
    def message(self) -> str:
        minutes = math.ceil(self.retry_after / 60)
        return f"{self.why} Try again in {minutes} minute{'s' if minutes != 1 else ''}."


def client_address(request: HttpRequest) -> str:
    """The address a sign-in comes from. Behind a proxy that appends the address it saw
    to ``X-Forwarded-For`` (``TRUST_X_FORWARDED_FOR``), that last entry: every request
    would otherwise share the proxy's address, and entries before it are the client's
    own say. django-ratelimit reads it through ``RATELIMIT_IP_META_KEY``."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return str(request.META.get("REMOTE_ADDR", ""))


def _counters(request: HttpRequest, email: str) -> list[tuple[str, dict[str, Any], int]]:
    """Each count a failure adds to: (reason, django-ratelimit's arguments, limit). A
    request with no peer address (a Unix socket with no proxy naming one) is counted by
    its e-mail only."""
    window = settings.SIGNIN_THROTTLE_WINDOW_SECONDS
    email = email.strip().lower()
    counters: list[tuple[str, Any, int]] = [
        ("email", lambda _group, _request: email, settings.SIGNIN_FAILURES_PER_EMAIL)
    ]
    if client_address(request):
        counters.append(("address", "ip", settings.SIGNIN_FAILURES_PER_ADDRESS))
    return [
        (reason, {"group": f"signin-{reason}", "key": key, "rate": f"{limit}/{window}s"}, limit)
        for reason, key, limit in counters
    ]


def signin_lockout(request: HttpRequest, email: str) -> Lockout | None:
    """The lockout a sign-in for ``email`` from this request's address meets, if any."""
    for reason, counter, limit in _counters(request, email):
        usage = get_usage(request, **counter)
        if usage is not None and usage["count"] >= limit:
            # The window ends ``time_left`` seconds from now; it has passed one later.
            lockout = Lockout(reason=reason, retry_after=max(usage["time_left"], 0) + 1)
            setattr(request, _LOCKOUT_ATTRIBUTE, lockout)
            return lockout
    return None


def signin_failed(request: HttpRequest, email: str) -> None:
    """Count a failed sign-in against the e-mail and the address."""
    for _reason, counter, _limit in _counters(request, email):
        get_usage(request, increment=True, **counter)


def lockout_of(request: HttpRequest) -> Lockout | None:
    """The lockout that refused this request's sign-in: the doors answer it with 429."""
    lockout: Lockout | None = getattr(request, _LOCKOUT_ATTRIBUTE, None)
    return lockout
