"""Sending through the WhatsApp Cloud API: ``POST {WHATSAPP_GRAPH_URL}/{phone_number_id}/messages``,
and its media: ``GET /{media-id}`` then the short-lived ``url`` it names (both with the
channel's token) for a customer's file, ``POST /{phone_number_id}/media`` for an agent's.

The transport tells a failure worth retrying (the platform busy, throttling, the network)
from one that will fail again however often we try (the customer's window closed, a bad
number, a bad request): the first raises ``TransientSendError``, the second ``SendFailure``
with the Cloud API's own code and title.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import httpx
from django.conf import settings

from conversations.channels import MediaInfo, MediaRetryLater, MediaRule, MediaUnavailable
from conversations.messaging import SendFailure, TransientSendError
from conversations.models import Channel

TIMEOUT = httpx.Timeout(10.0, connect=5.0)

# Cloud API error codes that mean "not now": throttling and the platform's own trouble.
RETRYABLE_CODES = {
    1,  # API unknown
    2,  # API service temporarily unavailable
    4,  # API too many calls
    80007,  # rate limit issues
    130429,  # rate limit hit
    131000,  # something went wrong
    131016,  # service unavailable
    131048,  # spam rate limit hit
    131056,  # pair rate limit hit
    131057,  # account in maintenance mode
    133004,  # server temporarily unavailable
}

_GRAPH_CODE_PREFIX = re.compile(r"^\(#\d+\)\s*")
# Uploads and downloads take longer than a message; a stalled read still ends.
MEDIA_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
DOWNLOAD_CHUNK = 64 * 1024

KB = 1024
MB = 1024 * KB
# The Cloud API's supported media types and their size limits, by MIME type.
MEDIA_RULES: dict[str, MediaRule] = {
    **{
        t: MediaRule("audio", 16 * MB)
        for t in ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
    },
    **{
        t: MediaRule("document", 100 * MB)
        for t in (
            "text/plain",
            "application/pdf",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        )
    },
    "image/jpeg": MediaRule("image", 5 * MB),
    "image/png": MediaRule("image", 5 * MB),
    # Animated stickers may reach 500 KB, static ones 100 KB: the larger bound here.
    "image/webp": MediaRule("sticker", 500 * KB),
    "video/mp4": MediaRule("video", 16 * MB),
    "video/3gpp": MediaRule("video", 16 * MB),
}

_local = threading.local()


def _client() -> httpx.Client:
    # One connection pool per worker thread: keep-alive to the Graph API across sends.
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = httpx.Client(timeout=TIMEOUT)
    return client


def text_request(*, wa_id: str | None, user_id: str | None, body: str) -> dict[str, Any]:
    """The Cloud API JSON of a text. A customer who hides their number behind a username
    is addressed by their business-scoped user id in ``recipient``."""
    request = _addressed(wa_id=wa_id, user_id=user_id)
    request["type"] = "text"
    request["text"] = {"preview_url": False, "body": body}
    return request


def template_request(
    *, wa_id: str | None, user_id: str | None, template: dict[str, Any]
) -> dict[str, Any]:
    """The Cloud API JSON of a template message: its name, its language's code and one
    text parameter for each placeholder of its body, in order."""
    request = _addressed(wa_id=wa_id, user_id=user_id)
    body: dict[str, Any] = {
        "name": template["name"],
        "language": {"code": template["language"]},
    }
    parameters = template.get("parameters") or []
    if parameters:
        body["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}
        ]
    request["type"] = "template"
    request["template"] = body
    return request


def read_request(*, wamid: str, typing: bool) -> dict[str, Any]:
    """The Cloud API JSON that shows a customer's message read, and the agent typing."""
    request: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": wamid,
    }
    if typing:
        request["typing_indicator"] = {"type": "text"}
    return request


def _addressed(*, wa_id: str | None, user_id: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if wa_id:
        request["to"] = wa_id
    else:
        request["recipient"] = user_id
    return request


def media_request(
    *,
    wa_id: str | None,
    user_id: str | None,
    kind: str,
    media_id: str,
    caption: str,
    filename: str,
) -> dict[str, Any]:
    """The Cloud API JSON of a medium sent by its id. Audio and stickers carry no caption;
    a document carries its file name."""
    request = _addressed(wa_id=wa_id, user_id=user_id)
    content: dict[str, Any] = {"id": media_id}
    if caption and kind in ("image", "video", "document"):
        content["caption"] = caption
    if kind == "document" and filename:
        content["filename"] = filename
    request["type"] = kind
    request[kind] = content
    return request


def _auth(channel: Channel) -> dict[str, str]:
    return {"Authorization": f"Bearer {channel.access_token}"}


def send_text(*, channel: Channel, wa_id: str | None, user_id: str | None, body: str) -> str:
    """Send a text; return the wamid WhatsApp gave it."""
    return _send(channel, text_request(wa_id=wa_id, user_id=user_id, body=body))


def send_media(
    *,
    channel: Channel,
    wa_id: str | None,
    user_id: str | None,
    kind: str,
    media_id: str,
    caption: str,
    filename: str,
) -> str:
    """Send an uploaded medium by its id; return the wamid WhatsApp gave the message."""
    request = media_request(
        wa_id=wa_id,
        user_id=user_id,
        kind=kind,
        media_id=media_id,
        caption=caption,
        filename=filename,
    )
    return _send(channel, request)


def send_template(
    *, channel: Channel, wa_id: str | None, user_id: str | None, template: dict[str, Any]
) -> str:
    """Send an approved template; return the wamid WhatsApp gave it."""
    return _send(channel, template_request(wa_id=wa_id, user_id=user_id, template=template))


def mark_read(*, channel: Channel, wamid: str, typing: bool) -> None:
    """Show the customer's message read (and the agent typing); the answer is
    ``{"success": true}``."""
    answer = _post(channel, read_request(wamid=wamid, typing=typing))
    if not (isinstance(answer, dict) and answer.get("success") is True):
        raise TransientSendError("the Cloud API answered 200 without success")


def _send(channel: Channel, request: dict[str, Any]) -> str:
    answer = _post(channel, request)
    messages = answer.get("messages") if isinstance(answer, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        wamid = messages[0].get("id")
        if isinstance(wamid, str) and wamid:
            return wamid
    raise TransientSendError("the Cloud API answered 200 without a message id")


def _post(channel: Channel, request: dict[str, Any]) -> Any:
    """POST to the number's ``messages`` edge; the answer of a 200, else the error raised
    as retryable (``TransientSendError``) or not (``SendFailure``)."""
    url = f"{settings.WHATSAPP_GRAPH_URL}/{channel.phone_number_id}/messages"
    try:
        response = _client().post(url, json=request, headers=_auth(channel))
    except httpx.TransportError as exc:  # timeouts and connection errors
        raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
    answer = _json(response)
    if response.status_code == 200:
        return answer
    raise _refusal(response.status_code, answer)


def upload_media(*, channel: Channel, file: BinaryIO, filename: str, mime_type: str) -> str:
    """``POST /{phone_number_id}/media`` (multipart, the file read in chunks); returns
    the media id a message then names."""
    url = f"{settings.WHATSAPP_GRAPH_URL}/{channel.phone_number_id}/media"
    try:
        response = _client().post(
            url,
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, file, mime_type)},
            headers=_auth(channel),
            timeout=MEDIA_TIMEOUT,
        )
    except httpx.TransportError as exc:
        raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
    answer = _json(response)
    if response.status_code == 200:
        media_id = answer.get("id") if isinstance(answer, dict) else None
        if isinstance(media_id, str) and media_id:
            return media_id
        raise TransientSendError("the Cloud API answered the upload without a media id")
    raise _refusal(response.status_code, answer)


def media_rule(*, mime_type: str) -> MediaRule | None:
    return MEDIA_RULES.get(mime_type.split(";", 1)[0].strip().lower())


def media_info(*, channel: Channel, media_id: str) -> MediaInfo:
    """``GET /{media-id}``: the medium's short-lived url, type, sha256 and size."""
    url = f"{settings.WHATSAPP_GRAPH_URL}/{media_id}"
    try:
        response = _client().get(
            url, params={"phone_number_id": channel.phone_number_id}, headers=_auth(channel)
        )
    except httpx.TransportError as exc:
        raise MediaRetryLater(f"{type(exc).__name__}: {exc}") from exc
    answer = _json(response)
    _raise_for_media(response, answer)
    if not isinstance(answer, dict) or not isinstance(answer.get("url"), str):
        raise MediaRetryLater("the Cloud API answered without the media's url")
    size = answer.get("file_size")
    return MediaInfo(
        url=answer["url"],
        mime_type=str(answer.get("mime_type") or ""),
        sha256=str(answer.get("sha256") or ""),
        file_size=int(size) if isinstance(size, int | str) and str(size).isdigit() else None,
    )


@contextmanager
def media_bytes(*, channel: Channel, info: MediaInfo) -> Iterator[Iterator[bytes]]:
    """The bytes at the medium's url, streamed in chunks with the channel's token."""
    try:
        with _client().stream(
            "GET", info.url, headers=_auth(channel), timeout=MEDIA_TIMEOUT
        ) as response:
            if response.status_code != 200:
                response.read()
                _raise_for_media(response, _json(response))
            yield _chunks(response)
    except httpx.TransportError as exc:
        raise MediaRetryLater(f"{type(exc).__name__}: {exc}") from exc


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes(chunk_size=DOWNLOAD_CHUNK)


def _raise_for_media(response: httpx.Response, answer: Any) -> None:
    status = response.status_code
    if status == 200:
        return
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if status >= 500 or status == 429 or code in RETRYABLE_CODES:
        raise MediaRetryLater(f"HTTP {status}, code {code}")
    raise MediaUnavailable(f"HTTP {status}, code {code}")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def _refusal(status_code: int, answer: Any) -> Exception:
    """What a non-200 answer means: try again later, or a refusal for good."""
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    if status_code >= 500 or status_code == 429 or code in RETRYABLE_CODES:
        return TransientSendError(f"HTTP {status_code}, code {code}")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    title = error["message"] if isinstance(error.get("message"), str) else ""
    return SendFailure(
        code=code,
        # Graph errors read "(#131047) Re-engagement message": the title is after the code.
        title=_GRAPH_CODE_PREFIX.sub("", title)[:200] or f"HTTP {status_code}",
        message=details[:1000] if isinstance(details, str) else "",
    )
