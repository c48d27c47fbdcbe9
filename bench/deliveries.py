"""WhatsApp Cloud API webhook deliveries as Meta sends them, signed with the app secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _envelope(phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100200", "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}],
    }


def inbound_text(
    *,
    phone_number_id: str,
    wa_id: str,
    wamid: str,
    text: str,
    name: str = "",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """One text message from a customer."""
    return _envelope(
        phone_number_id,
        {
            "contacts": [{"profile": {"name": name or f"Customer {wa_id}"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": wamid,
                    "timestamp": str(timestamp or int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
        },
    )


def status_update(
    *, phone_number_id: str, wamid: str, status: str, recipient: str, timestamp: int
) -> dict[str, Any]:
    """WhatsApp telling what became of a message we sent (sent, delivered, read, failed)."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if status == "failed":
        entry["errors"] = [{"code": 131047, "title": "Re-engagement message"}]
    return _envelope(phone_number_id, {"statuses": [entry]})


def encode(payload: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers a signed delivery carries."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return body, {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(body, app_secret),
    }
