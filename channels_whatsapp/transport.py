"""Sending through the WhatsApp Cloud API: ``POST {WHATSAPP_GRAPH_URL}/{phone_number_id}/messages``.

The transport tells a failure worth retrying (the platform busy, throttling, the network)
from one that will fail again however often we try (the customer's window closed, a bad
number, a bad request): the first raises ``TransientSendError``, the second ``SendFailure``
with the Cloud API's own code and title.
"""

from __future__ import annotations

import re
import threading
from typing import Any, NoReturn

import httpx
from django.conf import settings

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


def send_text(*, channel: Channel, wa_id: str | None, user_id: str | None, body: str) -> str:
    """Send a text; return the wamid WhatsApp gave it."""
    return _send(channel, text_request(wa_id=wa_id, user_id=user_id, body=body))


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
        response = _client().post(
            url, json=request, headers={"Authorization": f"Bearer {channel.access_token}"}
        )
    except httpx.TransportError as exc:  # timeouts and connection errors
        raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code == 200:
        return answer
    raise_for_error(response.status_code, answer)


def raise_for_error(status_code: int, answer: Any) -> NoReturn:
    """A Graph API error as ``TransientSendError`` (worth trying again) or ``SendFailure``."""
    error = answer.get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    if status_code >= 500 or status_code == 429 or code in RETRYABLE_CODES:
        raise TransientSendError(f"HTTP {status_code}, code {code}")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, dict) else None
    title = error["message"] if isinstance(error.get("message"), str) else ""
    raise SendFailure(
        code=code,
        # Graph errors read "(#131047) Re-engagement message": the title is after the code.
        title=_GRAPH_CODE_PREFIX.sub("", title)[:200] or f"HTTP {status_code}",
        message=details[:1000] if isinstance(details, str) else "",
    )
