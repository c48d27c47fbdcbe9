"""A local stand-in for the WhatsApp Cloud API, so tests and the demo never need Meta.

It speaks the real wire format: ``POST /<version>/<phone_number_id>/messages`` with a
bearer token answers like the Graph API (``contacts`` and ``messages[].id``), and, when
given a webhook URL and app secret, it reports ``sent``, ``delivered`` and ``read`` back
as signed webhook deliveries, as Meta would once the customer's phone has the message.

Media as the Cloud API keeps it: ``GET /<version>/<media-id>`` (with the token) answers
the media's short-lived ``url``, ``mime_type``, ``sha256`` and ``file_size``; a ``GET`` of
that url with the same token gives the bytes; ``POST /<version>/<phone_number_id>/media``
(multipart: ``file``, ``type``, ``messaging_product=whatsapp``) keeps an upload and answers
its ``id``, which a message then names. A photo, a voice note and a document are there from
the start under fixed ids (``SAMPLE_MEDIA``), so the demo's customers can send them.

For tests it records what it received (``GET /_fake/sent``, ``GET /_fake/uploads``) and can
be told to fail the next requests (``POST /_fake/fail`` with ``{"count", "status", "code"}``),
to fail the next downloads (``fail_downloads``) or to report a wrong sha256 for a medium
(``wrong_sha256``).

Message templates: every business account has the same few (``TEMPLATES``: approved ones
in several languages, one pending, one rejected), listed a page at a time by ``GET
/<version>/<business_account_id>/message_templates`` (``data``, ``paging.cursors`` and
``next``). A template send must name an approved one, in one of its languages, with as
many body parameters as its body has placeholders, or it is refused as Meta refuses it.
Read receipts and typing indicators (``"status": "read"`` on the messages edge) are
recorded (``reads``, ``GET /_fake/reads``); template sends are listed for the simulator
(``GET /_fake/template_sends?after=N``).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import logging
import queue
import re
import secrets
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from channels_whatsapp import sample_media
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
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation",
}


# The media every fake holds from its start, by id: what the simulator's customers send.
SAMPLE_PHOTO_ID = "880000000000001"
SAMPLE_VOICE_ID = "880000000000002"
SAMPLE_DOCUMENT_ID = "880000000000003"
SAMPLE_MEDIA = {
    SAMPLE_PHOTO_ID: ("image/jpeg", "parcel.jpg"),
    SAMPLE_VOICE_ID: ("audio/ogg; codecs=opus", "voice.ogg"),
    SAMPLE_DOCUMENT_ID: ("application/pdf", "delivery-note.pdf"),
}
DOWNLOAD_PATH = "/whatsapp_business/attachments/"
CHUNK = 64 * 1024


@dataclass
class FakeMedia:
    data: bytes
    mime_type: str
    filename: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def sample_bytes() -> dict[str, bytes]:
    """The sample media's bytes, by id: the same on every fake (made by code)."""
    return {
        SAMPLE_PHOTO_ID: sample_media.photo_jpeg(),
        SAMPLE_VOICE_ID: sample_media.voice_ogg(),
        SAMPLE_DOCUMENT_ID: sample_media.document_pdf(),
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
        self._media: dict[str, FakeMedia] = {}
        self._uploads: list[dict[str, Any]] = []
        self._download_failures = 0
        self._wrong_sha256: set[str] = set()
        self.downloads: list[str] = []
        self._samples = sample_bytes()
        self._add_samples()
        self._webhooks: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.webhook_results: list[int] = []
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._threads: list[threading.Thread] = []
        self.templates: list[dict[str, Any]] = [dict(t) for t in TEMPLATES]
        self._reads: list[dict[str, Any]] = []
        self._template_sends: list[dict[str, Any]] = []

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

    @property
    def uploads(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._uploads)

    def add_media(self, data: bytes, mime_type: str, filename: str = "") -> str:
        """Keep ``data`` as a medium a customer sent; returns its media id."""
        media_id = str(secrets.randbelow(10**15) + 10**15)
        with self._lock:
            self._media[media_id] = FakeMedia(data, mime_type, filename)
        return media_id

    def media(self, media_id: str) -> FakeMedia | None:
        with self._lock:
            return self._media.get(media_id)

    def fail_downloads(self, count: int) -> None:
        """The next ``count`` downloads of media bytes answer 500."""
        with self._lock:
            self._download_failures = count

    def wrong_sha256(self, media_id: str) -> None:
        """Report a sha256 for ``media_id`` that its bytes do not have."""
        with self._lock:
            self._wrong_sha256.add(media_id)

    def reset(self) -> None:
        with self._lock:
            self._sent.clear()
            self._failures.clear()
            self._reads.clear()
            self._template_sends.clear()
            self._uploads.clear()
            self._media.clear()
            self._download_failures = 0
            self._wrong_sha256.clear()
            self.downloads.clear()
        self._add_samples()

    def _add_samples(self) -> None:
        with self._lock:
            for media_id, (mime_type, filename) in SAMPLE_MEDIA.items():
                self._media[media_id] = FakeMedia(self._samples[media_id], mime_type, filename)

    # --- media ---------------------------------------------------------------------------

    def _token_problem(self, authorization: str) -> dict[str, Any] | None:
        token = authorization.removeprefix("Bearer ").strip()
        if not authorization.startswith("Bearer ") or not token:
            return graph_error(190, details="no access token")
        if self.access_token and token != self.access_token:
            return graph_error(190, details="invalid access token")
        return None

    def handle_media_info(self, media_id: str, authorization: str) -> tuple[int, dict[str, Any]]:
        problem = self._token_problem(authorization)
        if problem:
            return 401, problem
        medium = self.media(media_id)
        if medium is None:
            return 404, graph_error(100, details=f"media {media_id} does not exist")
        sha256 = medium.sha256
        if media_id in self._wrong_sha256:
            sha256 = hashlib.sha256(b"not these bytes" + medium.data).hexdigest()
        return 200, {
            "messaging_product": "whatsapp",
            "url": f"{self.url}{DOWNLOAD_PATH}?mid={media_id}&ext={secrets.token_hex(4)}",
            "mime_type": medium.mime_type,
            "sha256": sha256,
            "file_size": len(medium.data),
            "id": media_id,
        }

    def take_download_failure(self) -> bool:
        with self._lock:
            if self._download_failures > 0:
                self._download_failures -= 1
                return True
            return False

    def handle_upload(
        self, phone_number_id: str, authorization: str, content_type: str, raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        problem = self._token_problem(authorization)
        if problem:
            return 401, problem
        fields = _multipart(content_type, raw)
        upload = fields.get("file")
        if fields.get("messaging_product", (b"",))[0] != b"whatsapp":
            return 400, graph_error(100, details="messaging_product must be whatsapp")
        if upload is None:
            return 400, graph_error(100, details="the parameter file is required")
        data, filename, mime_type = upload
        mime_type = fields.get("type", (mime_type.encode(),))[0].decode() or mime_type
        media_id = self.add_media(data, mime_type, filename)
        with self._lock:
            self._uploads.append(
                {
                    "phone_number_id": phone_number_id,
                    "id": media_id,
                    "filename": filename,
                    "mime_type": mime_type,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "at": time.monotonic(),
                }
            )
        return 200, {"id": media_id}

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
        if isinstance(body, dict) and body.get("status") == "read":
            return self.handle_read(phone_number_id, body)
        problem = _check_message(body) or self._check_media(body)
        if problem:
            return 400, graph_error(100, details=problem)
        if body.get("type") == "template":
            refusal = self.template_refusal(body.get("template"))
            if refusal is not None:
                return 400, graph_error(*refusal)
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
                    "at": time.monotonic(),
                }
            )
        if body.get("type") == "template":
            with self._lock:
                self._template_sends.append({"to": body.get("to"), "wamid": wamid})
        if self.webhook_url and self.app_secret and self.statuses:
            self._webhooks.put(
                {"phone_number_id": phone_number_id, "wamid": wamid, "contact": contact}
            )
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [contact],
            "messages": [{"id": wamid}],
        }

    # --- message templates, read receipts and typing ------------------------------------

    @property
    def reads(self) -> list[dict[str, Any]]:
        """Every read call: ``phone_number_id``, ``message_id`` and ``typing``."""
        with self._lock:
            return list(self._reads)

    def template_sends(self, after: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return self._template_sends[after:]

    def handle_read(self, phone_number_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``{"status": "read", "message_id"}``, with ``typing_indicator`` when typing."""
        if body.get("messaging_product") != "whatsapp":
            return 400, graph_error(100, details="messaging_product must be whatsapp")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            return 400, graph_error(100, details="message_id is required")
        indicator = body.get("typing_indicator")
        if indicator is not None and indicator != {"type": "text"}:
            return 400, graph_error(100, details="typing_indicator.type must be text")
        with self._lock:
            self._reads.append(
                {
                    "phone_number_id": phone_number_id,
                    "message_id": message_id,
                    "typing": indicator is not None,
                }
            )
        return 200, {"success": True}

    def template_refusal(self, template: Any) -> tuple[int, str, str] | None:
        """Why Meta would refuse this template send (code, title, details), or None."""
        if not isinstance(template, dict) or not isinstance(template.get("name"), str):
            return 100, "Invalid parameter", "template.name is required"
        language = template.get("language")
        code = language.get("code") if isinstance(language, dict) else None
        known = next(
            (t for t in self.templates if t["name"] == template["name"] and t["language"] == code),
            None,
        )
        if known is None or known["status"] != "APPROVED":
            return (
                132001,
                "Template name does not exist in the translation",
                (f"template name ({template['name']}) does not exist in {code}"),
            )
        given = 0
        for component in template.get("components") or []:
            if isinstance(component, dict) and component.get("type") == "body":
                parameters = component.get("parameters") or []
                if any(
                    not isinstance(p, dict) or p.get("type") != "text" or not p.get("text")
                    for p in parameters
                ):
                    return 100, "Invalid parameter", "a body parameter needs type text and a text"
                given += len(parameters)
        expected = len(set(_PLACEHOLDER.findall(_body_of(known))))
        if given != expected:
            return (
                132000,
                _ERROR_TITLES[132000],
                (
                    f"body: number of localizable_params ({given}) does not match the expected "
                    f"number of params ({expected})"
                ),
            )
        return None

    def template_page(
        self, business_account_id: str, query: dict[str, list[str]], base: str
    ) -> dict[str, Any]:
        """One page of the account's templates, Graph style: ``data``, ``paging``."""
        try:
            limit = max(1, min(int(query.get("limit", ["25"])[0]), 100))
            start = int(base64.urlsafe_b64decode(query.get("after", [""])[0] or "MA==").decode())
        except ValueError:
            limit, start = 25, 0
        page = self.templates[start : start + limit]
        end = start + len(page)
        answer: dict[str, Any] = {"data": page}
        if page:
            cursors = {
                "before": base64.urlsafe_b64encode(str(start).encode()).decode(),
                "after": base64.urlsafe_b64encode(str(end).encode()).decode(),
            }
            answer["paging"] = {"cursors": cursors}
            if end < len(self.templates):
                answer["paging"]["next"] = (
                    f"{base}/{API_VERSION}/{business_account_id}/message_templates"
                    f"?limit={limit}&after={cursors['after']}"
                )
        return answer

    def _check_media(self, body: dict[str, Any]) -> str:
        kind = body.get("type")
        if kind not in MEDIA_KINDS:
            return ""
        obj = body.get(kind)
        if not isinstance(obj, dict) or not (obj.get("id") or obj.get("link")):
            return f"{kind}.id or {kind}.link is required"
        if obj.get("id") and self.media(str(obj["id"])) is None:
            return f"media {obj['id']} does not exist"
        return ""

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


MEDIA_KINDS = {"image", "audio", "video", "document", "sticker"}


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[Any, ...]]:
    """The fields of a multipart/form-data body: a file as (bytes, filename, type), any
    other field as (bytes,)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, tuple[Any, ...]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():  # type: ignore[attr-defined]
        name = str(part.get_param("name", header="content-disposition") or "")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = (data, filename, part.get_content_type())
        else:
            fields[name] = (data,)
    return fields


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

    def _raw(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _body(self, raw: bytes) -> Any:
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        parts = split.path.strip("/").split("/")
        authorization = self.headers.get("Authorization", "")
        if self.path == "/_fake/sent":
            self._answer(200, self.fake.sent)
        elif self.path == "/_fake/uploads":
            self._answer(200, self.fake.uploads)
        elif split.path == DOWNLOAD_PATH:
            self._download(parse_qs(split.query).get("mid", [""])[0], authorization)
        elif len(parts) == 2 and parts[0] == API_VERSION and parts[1].isdigit():
            self._answer(*self.fake.handle_media_info(parts[1], authorization))
        elif self._templates_get():
            return
        else:
            self._answer(404, graph_error(100, details="unknown path"))

    def _download(self, media_id: str, authorization: str) -> None:
        """The bytes of a medium, in chunks, as Meta's media host serves them."""
        problem = self.fake._token_problem(authorization)
        if problem:
            self._answer(401, problem)
            return
        medium = self.fake.media(media_id)
        if medium is None:
            self._answer(404, graph_error(100, details="media does not exist"))
            return
        if self.fake.take_download_failure():
            self._answer(500, graph_error(131016))
            return
        self.fake.downloads.append(media_id)
        self.send_response(200)
        self.send_header("Content-Type", medium.mime_type)
        self.send_header("Content-Length", str(len(medium.data)))
        self.end_headers()
        for chunk in sample_media.chunks(medium.data, CHUNK):
            self.wfile.write(chunk)

    def _templates_get(self) -> bool:
        """The template listing, read receipts and template sends; False: not theirs."""
        split = urlsplit(self.path)
        parts = split.path.strip("/").split("/")
        query = parse_qs(split.query)
        if split.path == "/_fake/reads":
            self._answer(200, self.fake.reads)
        elif split.path == "/_fake/template_sends":
            self._answer(200, self.fake.template_sends(int(query.get("after", ["0"])[0] or 0)))
        elif len(parts) == 3 and parts[2] == "message_templates":
            authorization = self.headers.get("Authorization", "")
            if not authorization.startswith("Bearer ") or not authorization[7:].strip():
                self._answer(401, graph_error(190, details="no access token"))
            else:
                base = f"http://{self.headers.get('Host', 'localhost')}"
                self._answer(200, self.fake.template_page(parts[1], query, base))
        else:
            return False
        return True

    def do_POST(self) -> None:
        raw = self._raw()
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) == 3 and parts[2] == "media":
            self._answer(
                *self.fake.handle_upload(
                    parts[1],
                    self.headers.get("Authorization", ""),
                    self.headers.get("Content-Type", ""),
                    raw,
                )
            )
            return
        body = self._body(raw)
        if self.path == "/_fake/fail":
            options = body if isinstance(body, dict) else {}
            self.fake.fail_next(
                int(options.get("count", 1)),
                status=int(options.get("status", 500)),
                code=int(options.get("code", 131016)),
                title=options.get("title"),
            )
            self._answer(200, {"ok": True})
        elif self.path == "/_fake/fail_downloads":
            options = body if isinstance(body, dict) else {}
            self.fake.fail_downloads(int(options.get("count", 1)))
            self._answer(200, {"ok": True})
        elif self.path == "/_fake/wrong_sha256":
            options = body if isinstance(body, dict) else {}
            self.fake.wrong_sha256(str(options.get("id", "")))
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


# --- message templates ---------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def _template(
    name: str, language: str, category: str, status: str, body: str, *, header: str = ""
) -> dict[str, Any]:
    components: list[dict[str, Any]] = []
    if header:
        components.append({"type": "HEADER", "format": "TEXT", "text": header})
    components.append({"type": "BODY", "text": body})
    components.append({"type": "FOOTER", "text": "Northwind Telecom"})
    return {
        "id": str(zlib.crc32(f"{name}:{language}".encode()) + 10**14),
        "name": name,
        "language": language,
        "category": category,
        "status": status,
        "components": components,
    }


def _body_of(template: dict[str, Any]) -> str:
    for component in template["components"]:
        if component["type"] == "BODY":
            return str(component["text"])
    return ""


# What every business account of the fake has: approved templates in several languages,
# one waiting for review and one refused (neither may be sent).
TEMPLATES: tuple[dict[str, Any], ...] = (
    _template(
        "follow_up",
        "en",
        "UTILITY",
        "APPROVED",
        "Hi {{1}}, this is Northwind Telecom following up on your request. "
        "Reply to this message to carry on with us.",
    ),
    _template(
        "follow_up",
        "es",
        "UTILITY",
        "APPROVED",
        "Hola {{1}}, somos Northwind Telecom y seguimos con tu consulta. "
        "Responde a este mensaje para continuar.",
    ),
    _template(
        "follow_up",
        "fr",
        "UTILITY",
        "APPROVED",
        "Bonjour {{1}}, ici Northwind Telecom au sujet de votre demande. "
        "Répondez à ce message pour continuer.",
    ),
    _template(
        "install_update",
        "en",
        "UTILITY",
        "APPROVED",
        "Hi {{1}}, your fibre installation is booked for {{2}}. "
        "Reply here if that slot does not suit you.",
        header="Your installation",
    ),
    _template(
        "install_update",
        "de",
        "UTILITY",
        "APPROVED",
        "Hallo {{1}}, Ihr Glasfaseranschluss ist für {{2}} geplant. "
        "Antworten Sie hier, falls der Termin nicht passt.",
        header="Ihre Installation",
    ),
    _template(
        "renewal_offer",
        "en",
        "MARKETING",
        "APPROVED",
        "Hello {{1}}, your contract ends on {{2}}. Renew before then and get {{3}} off "
        "for 12 months.",
    ),
    _template(
        "service_restored",
        "en",
        "UTILITY",
        "APPROVED",
        "Good news: the service outage in your area is over. Reply here if you still have trouble.",
    ),
    _template(
        "spring_promo",
        "en",
        "MARKETING",
        "PENDING",
        "Hi {{1}}, spring deals are here: {{2}}.",
    ),
    _template(
        "winback_offer",
        "en",
        "MARKETING",
        "REJECTED",
        "We miss you {{1}}! Come back for {{2}}.",
    ),
)
