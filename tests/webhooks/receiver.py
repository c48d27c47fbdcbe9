"""A real HTTP receiver of event webhooks, in the test's process: it keeps every POST it
is sent, per path, and answers as a test tells it (a status, a run of statuses, or no
answer at all for a while)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from webhooks.signing import SIGNATURE_HEADER, signature


@dataclass
class Received:
    path: str
    body: bytes
    headers: dict[str, str]
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]

    def signed_with(self, secret: str) -> bool:
        return self.headers.get(SIGNATURE_HEADER) == signature(secret=secret, body=self.body)


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.statuses: dict[str, list[int]] = {}  # answered in turn; then 200
        self.hang: dict[str, float] = {}  # seconds to wait before answering
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append(
                        Received(self.path, body, dict(self.headers.items()), time.monotonic())
                    )
                    queued = receiver.statuses.get(self.path) or []
                    status = queued.pop(0) if queued else 200
                time.sleep(receiver.hang.get(self.path, 0))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                with contextlib.suppress(OSError):  # the sender gave up waiting
                    self.wfile.write(f"answered {status}".encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def start(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.hang.clear()
        server.stop()
