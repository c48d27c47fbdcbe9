"""Media: 100 customers' photos of 200 KB each, recorded and downloaded by the worker.

The photos are distinct JPEGs kept on the fake Cloud API (through its upload endpoint,
where they become media a webhook can name). One delivery per photo is kept as the
webhook keeps it (``inbox.delivery_accept``) and the worker does the rest, as deployed:
a recording pass, then one download task per photo (``GET /<media-id>``, the bytes
streamed from the short-lived url, their sha256 checked, the file saved to the storage).
The time from the first delivery to the last photo kept is the product's figure.

**Baseline:** the same 100 photos fetched by this process alone, one after another, the
least a download could be: ``GET /<media-id>``, then the bytes streamed into a temporary
file, measured just before.

Held beside the ratio: every photo kept with its own bytes (sha256), and the worker's
memory flat: the resident memory of its processes (the main one and its pool) sampled
through the run, its peak less its size before, well under the 20 MB the photos weigh
together (each file passes through in 64 KiB chunks, never whole in memory)."""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
from typing import Any

import httpx

from bench.common import Check, Figure, ratio_check, seed_organization
from bench.context import Context
from bench.stack import Process, rss_of_tree

PHOTOS = 100
WARM_UP = 6
PHOTO_BYTES = 200 * 1000
# Growth of the worker's resident memory that still counts as flat.
FLAT_MIB = 16
# The worker does more than the downloads (recording, two task hops, the storage, the
# events), but on two processes side by side.
GOAL_RATIO = 5.0


def _rss(process: Process) -> int:
    """The resident memory of a process and its children (Celery's pool), in bytes."""
    return rss_of_tree(process.pid)


class _Peak:
    """Samples a process tree's memory in a thread until stopped; keeps the highest."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.peak = _rss(process)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _Peak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, _rss(self.process))


def _upload(client: httpx.Client, graph_url: str, phone_number_id: str, data: bytes) -> str:
    response = client.post(
        f"{graph_url}/{phone_number_id}/media",
        data={"messaging_product": "whatsapp", "type": "image/jpeg"},
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers={"Authorization": "Bearer bench-access-token"},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _bare_download(client: httpx.Client, graph_url: str, media_id: str) -> str:
    headers = {"Authorization": "Bearer bench-access-token"}
    info = client.get(f"{graph_url}/{media_id}", headers=headers).json()
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as spool, client.stream("GET", info["url"], headers=headers) as r:
        for chunk in r.iter_bytes(64 * 1024):
            digest.update(chunk)
            spool.write(chunk)
    return digest.hexdigest()


def _delivery(phone_number_id: str, media_id: str, sha256: str, n: int) -> bytes:
    from channels_whatsapp.fake_cloud import new_wamid, webhook_delivery

    wa_id = f"4473{n:08d}"
    return json.dumps(
        webhook_delivery(
            phone_number_id=phone_number_id,
            display_phone_number="15550100200",
            value={
                "contacts": [{"profile": {"name": f"Photo {n}"}, "wa_id": wa_id}],
                "messages": [
                    {
                        "from": wa_id,
                        "id": new_wamid(),
                        "timestamp": str(int(time.time())),
                        "type": "image",
                        "image": {"id": media_id, "mime_type": "image/jpeg", "sha256": sha256},
                    }
                ],
            },
        )
    ).encode()


def _kept(channel_id: int) -> dict[str, int]:
    from django.db.models import Count

    from conversations.models import Message

    rows = (
        Message.objects.filter(channel_id=channel_id, type="image")
        .values("media__state")
        .annotate(n=Count("pk"))
    )
    return {str(row["media__state"]): int(row["n"]) for row in rows}


def run(ctx: Context, worker: Process) -> tuple[list[Figure], list[Check]]:
    from django.core.files.storage import default_storage
    from django.db import transaction

    from channels_whatsapp.inbox import delivery_accept
    from channels_whatsapp.sample_media import photo_jpeg
    from conversations.models import Message

    assert ctx.graph_url
    made = seed_organization(agents=1, max_open=1, name="Media")
    channel = made["channel"]
    photos = [
        photo_jpeg(size=PHOTO_BYTES, label=f"photo {n}".encode()) for n in range(WARM_UP + PHOTOS)
    ]
    digests = [hashlib.sha256(p).hexdigest() for p in photos]
    with httpx.Client(timeout=30) as client:
        ids = [_upload(client, ctx.graph_url, channel.phone_number_id, p) for p in photos]
        started = time.monotonic()
        bare = [_bare_download(client, ctx.graph_url, media_id) for media_id in ids[WARM_UP:]]
        bare_seconds = time.monotonic() - started
    assert bare == digests[WARM_UP:]

    def record(first: int, count: int, channel_id: int) -> dict[str, int]:
        """Keep deliveries of photos ``first``… as the webhook does; wait until they are
        settled; returns the photos' states."""
        for n in range(first, first + count):
            with transaction.atomic():
                delivery_accept(
                    channel=channel,
                    body=_delivery(channel.phone_number_id, ids[n], digests[n], n),
                )
        deadline = time.monotonic() + 300
        kept = _kept(channel_id)
        while sum(kept.get(s, 0) for s in ("ready", "failed", "not_kept")) < first + count:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
            kept = _kept(channel_id)
        return kept

    # A few photos first, unmeasured: the worker's processes load the download's code
    # and open their connections once, which is not memory that grows with the files.
    record(0, WARM_UP, channel.pk)
    time.sleep(1.0)
    before = _rss(worker)
    started = time.monotonic()
    with _Peak(worker) as peak:
        kept = record(WARM_UP, PHOTOS, channel.pk)
        product_seconds = time.monotonic() - started
    after = _rss(worker)
    kept["ready"] = kept.get("ready", 0) - WARM_UP
    same = sum(
        _stored_sha256(default_storage, message.file.name or "") == message.media.get("sha256")
        for message in Message.objects.filter(channel_id=channel.pk, media__state="ready").order_by(
            "pk"
        )[WARM_UP:]
    )
    growth_mib = (peak.peak - before) / 2**20
    figures = [
        Figure(
            f"{PHOTOS} photos of {PHOTO_BYTES // 1000} KB: recorded and kept",
            f"{product_seconds:.2f} s",
            f"to the last one kept; {kept.get('ready', 0)} ready, {kept.get('failed', 0)} failed",
        ),
        Figure("the same photos fetched alone (baseline)", f"{bare_seconds:.2f} s", "one by one"),
        Figure(
            "worker's resident memory",
            f"{before / 2**20:.0f} MiB before, {peak.peak / 2**20:.0f} peak, "
            f"{after / 2**20:.0f} after",
            f"main process and its pool; +{growth_mib:.1f} MiB at most",
        ),
    ]
    checks = [
        ratio_check(
            f"media: {PHOTOS} photos of 200 KB recorded and downloaded",
            product=product_seconds,
            baseline=bare_seconds,
            show=lambda seconds: f"{seconds:.2f} s",
            baseline_name="the downloads alone, one by one",
            at_most=GOAL_RATIO,
        ),
        Check(
            "media: kept byte for byte, worker memory flat",
            product=f"{same}/{PHOTOS} kept, same sha256; +{growth_mib:.1f} MiB peak",
            goal=f"all, ≤ +{FLAT_MIB} MiB",
            held=same == PHOTOS and growth_mib <= FLAT_MIB,
        ),
    ]
    return figures, checks


def _stored_sha256(storage: Any, name: str) -> str:
    digest = hashlib.sha256()
    with storage.open(name, "rb") as kept:
        for chunk in iter(lambda: kept.read(64 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()
