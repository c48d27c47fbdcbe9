"""Per-caller request limits on the shared cache (Redis): every web process counts the
same calls. Past a limit, 429 with ``Retry-After`` and a JSON body naming the wait."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from api.authentication import caller_of

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

logger = logging.getLogger(__name__)


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
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            # The limits are kept in Redis; with Redis gone the API still takes requests
            # (a reply is queued in PostgreSQL's outbox), so the limit lets the call pass.
            logger.warning("request limit not checked: the cache is unreachable (%s)", exc)
            return True


class CallerWriteRateThrottle(CallerRateThrottle):
    """``API_WRITE_RATE_PER_MINUTE`` writes a minute for each token."""

    scope = "api-writes"

    def get_rate(self) -> str:
        return f"{settings.API_WRITE_RATE_PER_MINUTE}/min"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method not in WRITES:
            return None
        return super().get_cache_key(request, view)
