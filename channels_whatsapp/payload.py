"""Reading the Cloud API's webhook JSON.

A delivery is ``{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {...}}]}]}``; Meta batches many entries, changes, messages and
statuses into one, and every one of them counts. The envelope and the ids we store by
(wamid, timestamp, the customer's ``from`` / ``from_user_id``) must be right or the whole
delivery is refused; the content of a message is read leniently, because WhatsApp adds
message types faster than we do and an odd one must still reach the agent.

What a message carries into its row and its ``message.created`` event is bounded, so one
message always fits a frame of the dock's socket (the dock's ``FRAME_BYTES``):
its text to the Cloud API's own limits, cut with a visible "…" (a customer's words are
kept, not refused: Meta cannot be asked for a shorter message), and its content object
to the keys its type has, every string capped and all of them within one budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeGuard

from conversations import json_input
from conversations.messaging import InboundMessage, StatusUpdate

KNOWN_TYPES = {
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
    "unsupported",
}
MEDIA_TYPES = {"image", "audio", "video", "document", "sticker"}
TRACKED_STATUSES = {"sent", "delivered", "read", "failed"}
# Later than this is not a WhatsApp timestamp (and would not fit a database column).
MAX_TIMESTAMP = 10**11

# The Cloud API's limits: a text body, a media caption.
MAX_TEXT = 4096
MAX_CAPTION = 1024
# What marks a string cut short.
CUT = "\u2026"
# A content object: any one string (keys: their own cap), the keys of an object or the
# items of a list, how deep it nests, and one budget for all of it: a unit per value and
# per character of its strings and numbers. The dock's encoder writes a character in
# twelve bytes at worst (an astral one, escaped as a surrogate pair) and a value's
# punctuation in six, so a message's text (4,096), content and error (1,024 each for
# title and message) come to about 150 KB at the very worst: one frame of 256 KiB holds
# any message.
MAX_STRING = 1024
MAX_KEY = 64
MAX_ITEMS = 20
MAX_DEPTH = 6
CONTENT_BUDGET = 4096
# The keys each type's content is known to have; other types keep whatever they have. A
# medium's ``url`` on Meta's host is not kept: the file is fetched by its ``id`` and
# served by our own API (``conversations.media``).
MEDIA_KEYS = ("id", "mime_type", "sha256", "caption", "filename", "voice", "animated")
CONTENT_KEYS: dict[str, tuple[str, ...]] = {
    "text": (),  # its body is the message's text
    **dict.fromkeys(MEDIA_TYPES, MEDIA_KEYS),
    "location": ("latitude", "longitude", "name", "address", "url"),
    "interactive": ("type", "button_reply", "list_reply", "nfm_reply"),
    "button": ("payload", "text"),
    "reaction": ("message_id", "emoji"),
    "order": ("catalog_id", "text", "product_items"),
}
CARD_KEYS = ("name", "phones", "emails", "addresses", "org", "urls", "birthday")


class PayloadError(ValueError):
    """The body is not a Cloud API delivery; the text names the offending part."""


@dataclass
class Delivery:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    # Values sent for another phone number than the channel's: read, not stored.
    foreign_values: int = 0
    # Errors Meta reports at the value level (e.g. a message it could not process).
    errors: list[dict[str, Any]] = field(default_factory=list)


def load_json(body: bytes) -> Any:
    """The delivery under the project's rule for outside JSON (``conversations.json_input``):
    strict, nested at most ``WEBHOOK_MAX_DEPTH`` levels, with NUL dropped and lone
    surrogates replaced rather than refused (Meta cannot be asked for another body).
    The worker reads the kept body with this same function, so a body the webhook took
    is one the worker can read and store, however deep its own stack is.

    Raises ``ValueError`` for anything else."""
    return json_input.loads(body, max_depth=json_input.WEBHOOK_MAX_DEPTH, repair=True)


def parse_delivery(document: Any, *, phone_number_id: str) -> Delivery:
    """The messages and statuses of ``document`` (as ``load_json`` read it) meant for
    ``phone_number_id``."""
    if not isinstance(document, dict):
        raise PayloadError("the body must be a JSON object")
    if document.get("object") != "whatsapp_business_account":
        raise PayloadError('"object" must be "whatsapp_business_account"')
    entries = _list(document, "entry", "entry", required=True)
    delivery = Delivery()
    for i, entry in enumerate(entries):
        where = f"entry[{i}]"
        if not isinstance(entry, dict):
            raise PayloadError(f"{where} must be an object")
        for j, change in enumerate(_list(entry, "changes", where, required=True)):
            _read_change(change, f"{where}.changes[{j}]", phone_number_id, delivery)
    return delivery


def _read_change(change: Any, where: str, phone_number_id: str, delivery: Delivery) -> None:
    if not isinstance(change, dict):
        raise PayloadError(f"{where} must be an object")
    value = change.get("value")
    if not isinstance(value, dict):
        raise PayloadError(f"{where}.value must be an object")
    if change.get("field", "messages") != "messages":
        return  # another subscription (templates, account updates): not ours to store
    where = f"{where}.value"
    metadata = value.get("metadata")
    if not isinstance(metadata, dict) or not _is_text(metadata.get("phone_number_id")):
        raise PayloadError(f"{where}.metadata.phone_number_id must be a string")
    contacts = _list(value, "contacts", where)
    names = _profile_names(contacts, where)
    messages = [
        _read_message(m, f"{where}.messages[{k}]", names)
        for k, m in enumerate(_list(value, "messages", where))
    ]
    statuses = [
        _read_status(s, f"{where}.statuses[{k}]")
        for k, s in enumerate(_list(value, "statuses", where))
    ]
    errors = [_error([e]) for e in _list(value, "errors", where)]
    if metadata["phone_number_id"] != phone_number_id:
        delivery.foreign_values += 1
        return
    delivery.messages.extend(messages)
    delivery.statuses.extend(s for s in statuses if s is not None)
    delivery.errors.extend(errors)


def _profile_names(contacts: list[Any], where: str) -> dict[str, str]:
    """Profile names by whichever id each contact entry carries."""
    names: dict[str, str] = {}
    for k, contact in enumerate(contacts):
        if not isinstance(contact, dict):
            raise PayloadError(f"{where}.contacts[{k}] must be an object")
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if not _is_text(name):
            continue
        for key in ("wa_id", "user_id"):
            if _is_text(contact.get(key)):
                names[contact[key]] = name[:200]
    return names


def _read_message(message: Any, where: str, names: dict[str, str]) -> InboundMessage:
    if not isinstance(message, dict):
        raise PayloadError(f"{where} must be an object")
    wamid = _id(message, "id", where, max_length=255)
    wa_id = _optional_id(message, "from", where, max_length=64)
    user_id = _optional_id(message, "from_user_id", where, max_length=128)
    if wa_id is None and user_id is None:
        raise PayloadError(f'{where} names no customer: it needs "from" or "from_user_id"')
    kind = message.get("type")
    if not _is_text(kind):
        raise PayloadError(f"{where}.type must be a string")
    text, media = _content(kind, message)
    text = cut(text, MAX_CAPTION if kind in MEDIA_TYPES else MAX_TEXT)
    if kind not in KNOWN_TYPES:
        media = {"original_type": kind[:64], **media}
        kind = "unsupported"
    context = message.get("context")
    context_wamid = context.get("id") if isinstance(context, dict) else None
    if kind == "reaction" and not context_wamid:
        context_wamid = media.get("message_id")
    name = (wa_id and names.get(wa_id)) or (user_id and names.get(user_id)) or ""
    return InboundMessage(
        wamid=wamid,
        wa_id=wa_id,
        user_id=user_id,
        profile_name=name,
        sent_at=_timestamp(message, where),
        type=kind,
        text=text,
        media=media,
        context_wamid=context_wamid[:255] if _is_text(context_wamid) else "",
        error=_error(message.get("errors")),
    )


def _content(kind: str, message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """What the agent reads (``text``) and what the dock needs to show the rest, the
    latter bounded (``bounded``)."""
    body = message.get(kind)
    if kind == "contacts":
        cards = body if isinstance(body, list) else []
        names = [
            _str(c["name"].get("formatted_name"))
            for c in cards
            if isinstance(c, dict) and isinstance(c.get("name"), dict)
        ]
        kept = [{k: c[k] for k in CARD_KEYS if k in c} for c in cards if isinstance(c, dict)]
        return ", ".join(n for n in names if n), {"contacts": bounded(kept)}
    obj = body if isinstance(body, dict) else {}
    known = CONTENT_KEYS.get(kind)
    return _text_of(kind, obj), bounded(obj if known is None else _only(obj, known))


def _text_of(kind: str, obj: dict[str, Any]) -> str:
    if kind == "text":
        return _str(obj.get("body"))
    if kind in MEDIA_TYPES:
        return _str(obj.get("caption"))
    if kind == "location":
        label = _str(obj.get("name")) or _str(obj.get("address"))
        if not label and "latitude" in obj and "longitude" in obj:
            label = f"{obj['latitude']}, {obj['longitude']}"
        return label
    if kind == "interactive":
        reply = obj.get(_str(obj.get("type")))
        title = reply.get("title") if isinstance(reply, dict) else None
        return _str(title)
    if kind == "button":
        return _str(obj.get("text"))
    if kind == "reaction":
        return _str(obj.get("emoji"))
    if kind == "system":
        return _str(obj.get("body"))
    return ""


def _only(obj: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: obj[key] for key in keys if key in obj}


def cut(text: str, limit: int) -> str:
    """``text`` whole if it has at most ``limit`` characters, else its start and "…"
    in ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(CUT)] + CUT


class _Budget:
    """What a content object has left: a unit for each value, a character for each
    character of its strings and numbers."""

    def __init__(self, units: int) -> None:
        self.left = units

    def text(self, value: str, limit: int) -> str:
        kept = cut(value, max(min(limit, self.left), len(CUT)))
        self.left -= max(len(kept), 1)
        return kept

    def number(self, value: int | float) -> int | float:
        digits = len(repr(value)) if isinstance(value, float) else value.bit_length() // 3 + 1
        self.left -= digits
        return value


def bounded(value: Any, budget: _Budget | None = None, depth: int = 0) -> Any:
    """A copy of a JSON ``value`` within the content bounds (``MAX_STRING``, ``MAX_KEY``,
    ``MAX_ITEMS``, ``MAX_DEPTH``, ``CONTENT_BUDGET``): strings cut, and the items of an
    object or a list that lie deeper or beyond the budget left out (None in their place
    where a whole value is)."""
    budget = budget or _Budget(CONTENT_BUDGET)
    if isinstance(value, str):
        return budget.text(value, MAX_STRING)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return budget.number(value)
    budget.left -= 1
    if not isinstance(value, list | dict) or depth >= MAX_DEPTH:
        return value if value is None or isinstance(value, bool) else None
    if isinstance(value, list):
        items: list[Any] = []
        for item in value[:MAX_ITEMS]:
            if budget.left <= 0:
                break
            items.append(bounded(item, budget, depth + 1))
        return items
    kept: dict[str, Any] = {}
    for key, item in islice(value.items(), MAX_ITEMS):
        if budget.left <= 0:
            break
        kept[budget.text(key, MAX_KEY)] = bounded(item, budget, depth + 1)
    return kept


def _read_status(status: Any, where: str) -> StatusUpdate | None:
    if not isinstance(status, dict):
        raise PayloadError(f"{where} must be an object")
    wamid = _id(status, "id", where, max_length=255)
    state = status.get("status")
    if not _is_text(state):
        raise PayloadError(f"{where}.status must be a string")
    at = _timestamp(status, where)
    if state not in TRACKED_STATUSES:
        return None  # e.g. "played" for voice notes: nothing we show
    return StatusUpdate(wamid=wamid, status=state, at=at, error=_error(status.get("errors")))


def _error(errors: Any) -> dict[str, Any]:
    """The first error of a Cloud API ``errors`` list as ``{code, title, message}``."""
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return {}
    first = errors[0]
    code = first.get("code")
    data = first.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    return {
        "code": code if isinstance(code, int) and not isinstance(code, bool) else None,
        "title": cut(_str(first.get("title")), MAX_STRING),
        "message": cut(_str(first.get("message")) or _str(details), MAX_STRING),
    }


def _timestamp(obj: dict[str, Any], where: str) -> datetime:
    raw = obj.get("timestamp")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 12:
        seconds = int(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    else:
        raise PayloadError(f"{where}.timestamp must be Unix seconds as a string")
    if not 0 < seconds < MAX_TIMESTAMP:
        raise PayloadError(f"{where}.timestamp is out of range")
    return datetime.fromtimestamp(seconds, tz=UTC)


def _id(obj: dict[str, Any], key: str, where: str, *, max_length: int) -> str:
    value = obj.get(key)
    if not _is_text(value) or len(value) > max_length:
        raise PayloadError(f"{where}.{key} must be a string of 1 to {max_length} characters")
    return value


def _optional_id(obj: dict[str, Any], key: str, where: str, *, max_length: int) -> str | None:
    if obj.get(key) is None:
        return None
    return _id(obj, key, where, max_length=max_length)


def _list(obj: dict[str, Any], key: str, where: str, *, required: bool = False) -> list[Any]:
    value = obj.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise PayloadError(
            f"{where}.{key} must be a list" if key != where else f"{key} must be a list"
        )
    return value


def _is_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.strip() != ""


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
