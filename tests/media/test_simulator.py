"""The demo's customers send photos, voice notes and documents the fake Cloud API of
``make run`` holds, with the sha256 of the bytes it serves."""

from __future__ import annotations

import base64
import hashlib
import random

from channels_whatsapp.fake_cloud import SAMPLE_MEDIA, FakeCloudApi
from channels_whatsapp.simulator import customer_pool, inbound_message


def test_simulated_customers_send_files_every_fake_can_serve():
    rng = random.Random(7)
    pool = customer_pool(seed=7)
    sent = [inbound_message(rng.choice(pool), rng=rng, at=1_700_000_000) for _ in range(600)]
    files = [m for m in sent if m["type"] in ("image", "audio", "document")]

    assert {m["type"] for m in files} == {"image", "audio", "document"}
    fake = FakeCloudApi().start()  # a fresh fake, as `make run` starts one
    try:
        for message in files:
            content = message[message["type"]]
            assert content["id"] in SAMPLE_MEDIA
            served = fake.media(content["id"])
            assert served is not None
            digest = base64.b64encode(hashlib.sha256(served.data).digest()).decode()
            assert content["sha256"] == digest
    finally:
        fake.stop()
