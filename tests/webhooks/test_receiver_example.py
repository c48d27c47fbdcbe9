"""The receiver in docs/webhooks.md, run as written, accepts what the chain signs and
refuses anything else."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import httpx

from webhooks.signing import SIGNATURE_HEADER, signature

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "your secret"


def docs_receiver():
    code = re.search(r"### Verifying the signature.*?```python\n(.*?)```", DOC.read_text(), re.S)
    assert code, "the example is in the page"
    lines = [line for line in code.group(1).strip().splitlines() if line.strip()]
    assert len(lines) <= 10, "ten lines"
    assert lines[-1].startswith("HTTPServer(")
    namespace: dict = {}
    exec("\n".join(lines[:-1]), namespace)  # all but serving forever on port 8080
    server = namespace["HTTPServer"](("127.0.0.1", 0), namespace["Receiver"])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_documented_receiver_accepts_a_signed_event_and_refuses_a_forged_one():
    server = docs_receiver()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    body = b'{"id":"1","type":"message.created","created_at":"2026-01-01T00:00:00+00:00","data":{}}'
    try:
        signed = httpx.post(
            url, content=body, headers={SIGNATURE_HEADER: signature(secret=SECRET, body=body)}
        )
        forged = httpx.post(
            url, content=body, headers={SIGNATURE_HEADER: signature(secret="guess", body=body)}
        )
        unsigned = httpx.post(url, content=body)
    finally:
        server.shutdown()
        server.server_close()
    assert (signed.status_code, forged.status_code, unsigned.status_code) == (204, 401, 401)
