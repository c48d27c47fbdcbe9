"""``Authorization: Token <key>``: a member's own API token (``auth/token/``) or one of
the organization's named integration tokens (``api.tokens``), told apart by the key's
prefix. ``Bearer`` is not accepted."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions

from api import tokens
from api.models import IntegrationToken


class TokenAuthentication(authentication.TokenAuthentication):
    """An integration token acts as the admin who made it; ``request.auth`` is the
    token, so limits and idempotency keys are counted per token."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if not key.startswith(tokens.KEY_PREFIX):
            return super().authenticate_credentials(key)
        token = tokens.integration_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return token.created_by.user, token


def caller_of(request: Any) -> str | None:
    """Who is calling, for limits and idempotency keys: the integration token, else the
    signed-in user (whatever their own token or session); None when anonymous."""
    if isinstance(getattr(request, "auth", None), IntegrationToken):
        return f"token:{request.auth.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None
