"""Meta signs every webhook delivery: ``X-Hub-Signature-256: sha256=<hex>``, the
HMAC-SHA256 of the raw body keyed with the app secret."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta would send for ``body``."""
    return PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(*, body: bytes, header: str | None, app_secret: str) -> bool:
    """Compared in constant time, before the body is parsed at all."""
    if not header or not app_secret:
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().lower().encode())
