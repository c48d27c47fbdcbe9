"""Per-caller request limits on the shared cache (Redis): every web process counts the
same calls. Past a limit, 429 with ``Retry-After`` and a JSON body naming the wait."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import caller_of

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CallerRateThrottle(SimpleRateThrottle):
    """``API_RATE_PER_MINUTE`` requests a minute for each token: a member's own, or each
    of the organization's integration tokens apart."""

    scope = "api"

    def get_rate(self) -> str:
        return f"{settings.API_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.auth is None:
            # Anonymous calls are refused (or held by sign-in's own limits); the product's
            # own pages, signed in by session (the supervision board refreshes on every
            # event), are not an integration to hold back.
            return None
        return self.cache_format % {"scope": self.scope, "ident": caller_of(request)}

    def allow_request(self, request: Any, view: Any) -> bool:
        # Read at each request: the limits are settings, changed without a new class.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class CallerWriteRateThrottle(CallerRateThrottle):
    """``API_WRITE_RATE_PER_MINUTE`` writes a minute for each token."""

    scope = "api-writes"

    def get_rate(self) -> str:
        return f"{settings.API_WRITE_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method not in WRITES:
            return None
        return super().get_cache_key(request, view)
