"""The organization's named integration tokens: made, revoked and looked up here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from api.models import IntegrationToken
from conversations.models import Membership, Role

# Integration keys start with this, so a key is looked up in one table, never both.
KEY_PREFIX = "cxgi_"
# ``last_used_at`` moves at most this often: a busy integration writes nothing per call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def integration_token_create(*, created_by: Membership, name: str) -> tuple[IntegrationToken, str]:
    """A new token of the creator's organization; returns it and its key, which is not
    kept and cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    token = IntegrationToken.objects.create(
        organization_id=created_by.organization_id,
        name=name,
        key_hash=key_hash(key),
        key_prefix=key[: len(KEY_PREFIX) + 6],
        created_by=created_by,
    )
    return token, key


def integration_token_revoke(*, token: IntegrationToken) -> None:
    """The token's access ends at once: the next request with it is 401."""
    IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def integration_token_for_key(key: str) -> IntegrationToken | None:
    """The live token with this key, its creator loaded: not revoked, its creator an
    active admin (one who lost either lost the tokens they made with it)."""
    token = (
        IntegrationToken.objects.select_related("created_by__user")
        .filter(
            key_hash=key_hash(key),
            revoked_at__isnull=True,
            created_by__role=Role.ADMIN,
            created_by__user__is_active=True,
            created_by__organization_id=F("organization_id"),
        )
        .first()
    )
    if token is not None:
        _note_use(token)
    return token


def _note_use(token: IntegrationToken) -> None:
    """Move ``last_used_at`` when it is a minute old: one conditional UPDATE, so many
    processes using the token at once still write it once."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    IntegrationToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
