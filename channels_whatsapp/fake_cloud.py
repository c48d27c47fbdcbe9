"""A local stand-in for the WhatsApp Cloud API, so tests and the demo never need Meta.

It speaks the real wire format: ``POST /<version>/<phone_number_id>/messages`` with a
bearer token answers like the Graph API (``contacts`` and ``messages[].id``), and, when
given a webhook URL and app secret, it reports ``sent``, ``delivered`` and ``read`` back
as signed webhook deliveries, as Meta would once the customer's phone has the message.

For tests it records what it received (``GET /_fake/sent``) and can be told to fail the
next requests (``POST /_fake/fail`` with ``{"count", "status", "code"}``).
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import secrets
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from channels_whatsapp.signature import HEADER, sign

logger = logging.getLogger(__name__)

API_VERSION = "v21.0"
_ERROR_TITLES = {
    100: "Invalid parameter",
    130429: "Rate limit hit",
    131016: "Service unavailable",
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    190: "Error validating access token",
}


def new_wamid() -> str:
    return "wamid." + base64.b64encode(b"\x15\x02\x00\x11\x18" + secrets.token_bytes(20)).decode()


def graph_error(code: int, title: str | None = None, details: str = "") -> dict[str, Any]:
    """An error body the way the Graph API writes it."""
    title = title or _ERROR_TITLES.get(code, "Something went wrong")
    return {
        "error": {
            "message": f"(#{code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or title},
            "fbtrace_id": secrets.token_urlsafe(12),
        }
    }


class FakeCloudApi:
    """Start with ``start()``; ``graph_url`` is what ``WHATSAPP_GRAPH_URL`` should be."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_token: str | None = None,
        webhook_url: str | None = None,
        app_secret: str | None = None,
        status_delay: float = 0.3,
        statuses: tuple[str, ...] = ("sent", "delivered", "read"),
    ) -> None:
        self.access_token = access_token
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.status_delay = status_delay
        self.statuses = statuses
        self._lock = threading.Lock()
        self._sent: list[dict[str, Any]] = []
        self._failures: deque[tuple[int, dict[str, Any]]] = deque()
        self._webhooks: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.webhook_results: list[int] = []
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def graph_url(self) -> str:
        return f"{self.url}/{API_VERSION}"

    def start(self) -> FakeCloudApi:
        for target in (self._server.serve_forever, self._post_webhooks):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._webhooks.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the management command)."""
        webhook_thread = threading.Thread(target=self._post_webhooks, daemon=True)
        webhook_thread.start()
        try:
            self._server.serve_forever()
        finally:
            self._webhooks.put(None)
            self._server.server_close()

    # --- what tests look at and steer ----------------------------------------------------

    @property
    def sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._sent)

    def fail_next(
        self, count: int = 1, *, status: int = 500, code: int = 131016, title: str | None = None
    ) -> None:
        with self._lock:
            for _ in range(count):
                self._failures.append((status, graph_error(code, title)))

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._failures.clear()

    # --- the Graph API -------------------------------------------------------------------

    def handle_send(
        self, phone_number_id: str, authorization: str, body: Any
    ) -> tuple[int, dict[str, Any]]:
        token = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not token:
            return 401, graph_error(190, details="no access token")
        if self.access_token and token != self.access_token:
            return 401, graph_error(190, details="invalid access token")
        with self._lock:
            if self._failures:
                return self._failures.popleft()
        problem = _check_message(body)
        if problem:
            return 400, graph_error(100, details=problem)
        wamid = new_wamid()
        contact = {"input": body.get("to") or body.get("recipient")}
        if body.get("to"):
            contact["wa_id"] = "".join(ch for ch in body["to"] if ch.isdigit())
        else:
            contact["user_id"] = body["recipient"]
        with self._lock:
            self._sent.append(
                {
                    "phone_number_id": phone_number_id,
                    "authorization": authorization,
                    "body": body,
                    "wamid": wamid,
                }
            )
        if self.webhook_url and self.app_secret and self.statuses:
            self._webhooks.put(
                {"phone_number_id": phone_number_id, "wamid": wamid, "contact": contact}
            )
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": wamid}],
        }

    def _post_webhooks(self) -> None:
        """Report each accepted message's statuses in order, as the customer's phone would."""
        with httpx.Client(timeout=10) as client:
            while True:
                job = self._webhooks.get()
                if job is None:
                    return
                for state in self.statuses:
                    time.sleep(self.status_delay)
                    self._post_status(client, job, state)

    def _post_status(self, client: httpx.Client, job: dict[str, Any], state: str) -> None:
        body = json.dumps(status_delivery(job=job, state=state)).encode()
        try:
            response = client.post(
                self.webhook_url or "",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    HEADER: sign(body, self.app_secret or ""),
                },
            )
            self.webhook_results.append(response.status_code)
        except httpx.HTTPError as exc:
            logger.warning("fake cloud api: status webhook not delivered: %s", exc)


def status_delivery(*, job: dict[str, Any], state: str) -> dict[str, Any]:
    """A status webhook as Meta sends it for a message to a phone number or a user id."""
    contact = job["contact"]
    status: dict[str, Any] = {
        "id": job["wamid"],
        "status": state,
        "timestamp": str(int(time.time())),
    }
    if contact.get("wa_id"):
        status["recipient_id"] = contact["wa_id"]
    if contact.get("user_id"):
        status["recipient_user_id"] = contact["user_id"]
    if state != "read":
        status["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "service"}}
        status["pricing"] = {"billable": False, "pricing_model": "PMP", "category": "service"}
    return webhook_delivery(
        phone_number_id=job["phone_number_id"],
        display_phone_number="15550100200",
        value={"statuses": [status]},
    )


def webhook_delivery(
    *, phone_number_id: str, display_phone_number: str, value: dict[str, Any]
) -> dict[str, Any]:
    """The envelope Meta wraps around one change of the ``messages`` field."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WHATSAPP_BUSINESS_ACCOUNT_ID",
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display_phone_number,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def _check_message(body: Any) -> str:
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if not body.get("to") and not body.get("recipient"):
        return "the parameter to or recipient is required"
    if body.get("type", "text") == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str) or not text["body"]:
            return "text.body is required"
    return ""


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeGraphAPI/1.0"

    @property
    def fake(self) -> FakeCloudApi:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake cloud api: " + format, *args)

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def do_GET(self) -> None:
        if self.path == "/_fake/sent":
            self._answer(200, self.fake.sent)
        else:
            self._answer(404, graph_error(100, details="unknown path"))

    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if self.path == "/_fake/fail":
            options = body if isinstance(body, dict) else {}
            self.fake.fail_next(
                int(options.get("count", 1)),
                status=int(options.get("status", 500)),
                code=int(options.get("code", 131016)),
                title=options.get("title"),
            )
            self._answer(200, {"ok": True})
        elif self.path == "/_fake/reset":
            self.fake.reset()
            self._answer(200, {"ok": True})
        elif len(parts) == 3 and parts[2] == "messages":
            status, answer = self.fake.handle_send(
                parts[1], self.headers.get("Authorization", ""), body
            )
            self._answer(status, answer)
        else:
            self._answer(404, graph_error(100, details="unknown path"))
