"""The signature of a webhook body: what the receiver recomputes (docs/webhooks.md)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-CXGear-Signature"


def signature(*, secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body with the secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
