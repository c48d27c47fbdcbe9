"""A running fake WhatsApp Cloud API for tests, with ``WHATSAPP_GRAPH_URL`` pointing at it.

Use it from a conftest: ``from tests.fake_cloud_fixture import fake_cloud  # noqa: F401``.
Give it ``webhook_url`` and ``app_secret`` (attributes) to have it post status webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels_whatsapp.fake_cloud import FakeCloudApi


@pytest.fixture
def fake_cloud(settings) -> Iterator[FakeCloudApi]:
    fake = FakeCloudApi(status_delay=0.05).start()
    settings.WHATSAPP_GRAPH_URL = fake.graph_url
    try:
        yield fake
    finally:
        fake.stop()
