"""The WSGI entry that granian serves: signed deliveries go straight to the webhook, past
the middleware, and still get every answer Django would give them; all else takes the
usual road."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from typing import Any

import pytest

from channels_whatsapp.models import InboundDelivery
from channels_whatsapp.signature import HEADER, sign
from conversations.models import Message
from cxgear.wsgi import application
from tests.whatsapp import payloads as p

pytestmark = pytest.mark.django_db(transaction=True)


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)


def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    """One request through ``cxgear.wsgi.application``, as a WSGI server makes it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started: list[Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        started.extend([status, headers])
        # Django answers through the iterable it returns, never through write().
        return lambda data: None

    result = application(environ, start_response)
    try:
        body_out = b"".join(result)
    finally:
        result.close()
    return Answer(started[0], started[1], body_out)


def delivery_body(channel, text: str = "is my order on its way?") -> bytes:
    return json.dumps(
        p.delivery(
            p.value(
                channel,
                contacts=[p.contact()],
                messages=[p.message("text", p.text(text))],
            )
        )
    ).encode()


def test_a_signed_delivery_is_kept_and_answered_without_the_middleware(channel):
    body = delivery_body(channel)

    answer = call(
        "POST", f"/webhooks/whatsapp/{channel.key}/", body, {HEADER: sign(body, channel.app_secret)}
    )

    assert answer.status_code == 200
    assert answer.json() == {"received": {"messages": 1, "statuses": 0}}
    assert "X-Frame-Options" not in answer.headers  # the middleware did not run
    assert answer.headers["Content-Length"] == str(len(answer.body))  # not chunked
    # Tests run Celery eagerly: the recording pass ran as the webhook committed.
    assert list(Message.objects.values_list("text", flat=True)) == ["is my order on its way?"]
    assert not InboundDelivery.objects.exists()


def test_a_wrong_signature_is_refused_with_a_reason_and_nothing_kept(channel):
    body = delivery_body(channel)

    answer = call("POST", f"/webhooks/whatsapp/{channel.key}/", body, {HEADER: "sha256=00"})

    assert answer.status_code == 401
    assert HEADER in answer.json()["error"]
    assert not InboundDelivery.objects.exists()
    assert not Message.objects.exists()


def test_a_failure_inside_the_webhook_is_a_500_so_meta_retries(channel, monkeypatch):
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("channels_whatsapp.views.delivery_accept", broken)
    body = delivery_body(channel)

    answer = call(
        "POST", f"/webhooks/whatsapp/{channel.key}/", body, {HEADER: sign(body, channel.app_secret)}
    )

    assert answer.status_code == 500


def test_other_requests_still_pass_through_the_middleware(channel):
    handshake = call("GET", f"/webhooks/whatsapp/{channel.key}/")
    not_a_key = call("POST", f"/webhooks/whatsapp/{channel.key}/more/", b"{}")

    assert handshake.status_code == 403
    assert handshake.headers["X-Frame-Options"] == "DENY"
    assert not_a_key.status_code == 404
    assert not_a_key.headers["X-Frame-Options"] == "DENY"
