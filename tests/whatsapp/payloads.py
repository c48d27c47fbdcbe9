"""Webhook deliveries shaped as Meta's Cloud API reference documents them.

Every builder returns the whole delivery (``object`` / ``entry`` / ``changes`` /
``value``) so a test posts exactly what Meta would."""

from __future__ import annotations

import itertools
import time
from typing import Any

BUSINESS_ACCOUNT_ID = "102290129340398"
CUSTOMER = "16505551234"
CUSTOMER_NAME = "Sheena Nelson"
BSUID = "US.13491208655302741918"

_ids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ{next(_ids):06d}"


def now() -> str:
    return str(int(time.time()))


def delivery(*values: dict[str, Any]) -> dict[str, Any]:
    """One entry with one change per value."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": BUSINESS_ACCOUNT_ID,
                "changes": [{"value": value, "field": "messages"} for value in values],
            }
        ],
    }


def value(
    channel: Any,
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contacts: list[dict[str, Any]] | None = None,
    phone_number_id: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "15550783881",
            "phone_number_id": phone_number_id or channel.phone_number_id,
        },
    }
    if contacts is not None:
        result["contacts"] = contacts
    if messages is not None:
        result["messages"] = messages
    if statuses is not None:
        result["statuses"] = statuses
    return result


def contact(wa_id: str | None = CUSTOMER, name: str = CUSTOMER_NAME, user_id: str | None = None):
    entry: dict[str, Any] = {"profile": {"name": name}}
    if wa_id:
        entry["wa_id"] = wa_id
    if user_id:
        entry["user_id"] = user_id
    return entry


def message(kind: str, content: Any, *, sender: str | None = CUSTOMER, **extra: Any):
    entry: dict[str, Any] = {"id": wamid(), "timestamp": now(), "type": kind, kind: content}
    if sender:
        entry["from"] = sender
    entry.update(extra)
    return entry


def inbound(channel: Any, kind: str, content: Any, **extra: Any) -> dict[str, Any]:
    """A delivery with one customer's one message of ``kind``."""
    return delivery(
        value(channel, contacts=[contact()], messages=[message(kind, content, **extra)])
    )


def text(body: str = "Does it come in another color?") -> dict[str, Any]:
    return {"body": body}


# The contents of each message type, as in Meta's examples.
CONTENTS: dict[str, Any] = {
    "text": text(),
    "image": {
        "caption": "Here is the broken part",
        "mime_type": "image/jpeg",
        "sha256": "HgbeX/L1sgbRrUAQ8DxSEzDtTRsbHpfD0DFHrXqHgkY=",
        "id": "1003383421387256",
        "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1003383421387256",
    },
    "audio": {
        "mime_type": "audio/ogg; codecs=opus",
        "sha256": "u1AAifSUmKbmtDqL4bKz2B9ChT2vZUZbRUG/gOLSTwg=",
        "id": "1003383421387257",
        "voice": True,
    },
    "video": {
        "caption": "The router when I switch it on",
        "mime_type": "video/mp4",
        "sha256": "3bmHTkmqFIh+RhKSNTG+H2yhd6VbIjHrfxJLkeRvHWY=",
        "id": "1003383421387258",
    },
    "document": {
        "caption": "My last invoice",
        "filename": "invoice-2026-04.pdf",
        "mime_type": "application/pdf",
        "sha256": "UpUmqJvlJRL6b/8eUuHr57GH8qIO+OgjaN4KOWLW7dg=",
        "id": "1003383421387259",
    },
    "sticker": {
        "mime_type": "image/webp",
        "sha256": "ysN7HW8BD82SENwJy+ZBTzL+hxkmxmMVkbNAgPwUaH0=",
        "id": "1003383421387260",
        "animated": False,
    },
    "location": {
        "address": "1 Hacker Way, Menlo Park, CA 94025",
        "latitude": 37.483253479003906,
        "longitude": -122.14960479736328,
        "name": "Main office",
        "url": "https://www.facebook.com",
    },
    "contacts": [
        {
            "addresses": [{"city": "Menlo Park", "country": "United States", "type": "WORK"}],
            "birthday": "1999-01-23",
            "emails": [{"email": "bjohnson@example.test", "type": "WORK"}],
            "name": {
                "formatted_name": "Barbara J. Johnson",
                "first_name": "Barbara",
                "last_name": "Johnson",
            },
            "org": {"company": "Lucky Shrub", "title": "Manager"},
            "phones": [{"phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "WORK"}],
            "urls": [{"url": "https://www.luckyshrub.com", "type": "WORK"}],
        }
    ],
}


def button_reply() -> dict[str, Any]:
    return {"type": "button_reply", "button_reply": {"id": "renew-yes", "title": "Yes, renew"}}


def list_reply() -> dict[str, Any]:
    return {
        "type": "list_reply",
        "list_reply": {
            "id": "slot-tue-am",
            "title": "Tuesday morning",
            "description": "Technician visit between 8 and 12",
        },
    }


def status(
    message_wamid: str, state: str, *, timestamp: str | None = None, recipient: str = CUSTOMER
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": message_wamid,
        "status": state,
        "timestamp": timestamp or now(),
        "recipient_id": recipient,
    }
    if state in ("sent", "delivered"):
        entry["conversation"] = {
            "id": "6ceb9d929c1a5ed1e2e5a25ed6a1e6d4",
            "origin": {"type": "service"},
        }
        entry["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service"}
    if state == "failed":
        entry["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Message Undeliverable."},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return entry
