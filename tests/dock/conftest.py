"""Helpers for the dock's tests: a member's socket, as the page opens it, and a customer
writing in."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from conversations import messaging
from conversations.models import Channel, Membership
from dock.consumers import DockConsumer
from tests.fake_cloud_fixture import fake_cloud  # noqa: F401
from tests.live_server import (  # noqa: F401
    browser,
    daphne_process,
    daphne_server,
    fake_cloud_api,
    page,
)


def as_user(user: Any):
    """The consumer as the session middleware would hand it a signed-in user."""
    app = DockConsumer.as_asgi()

    async def with_user(scope, receive, send):
        return await app({**scope, "user": user}, receive, send)

    return with_user


async def open_dock(member: Membership) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """Connect ``member``'s dock and return it with the snapshot it opened with."""
    communicator = WebsocketCommunicator(as_user(member.user), "/ws/dock/")
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    snapshot = await communicator.receive_json_from(timeout=10)
    assert snapshot["type"] == "snapshot"
    return communicator, snapshot


async def command(
    communicator: WebsocketCommunicator, frame: dict[str, Any], *, timeout: float = 10
) -> dict[str, Any]:
    """Send a command and return its reply, skipping events that arrive before it."""
    await communicator.send_json_to(frame)
    while True:
        reply = await communicator.receive_json_from(timeout=timeout)
        if reply.get("id") == frame.get("id") and reply["type"] in ("reply", "error", "resync"):
            return reply


@pytest.fixture
def fast_passwords(settings):
    """Hundreds of members need no slow password hashing to prove fan-out."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def store_customer_text(channel: Channel, wa_id: str, name: str, text: str) -> None:
    """A customer's text stored as the webhook stores it, with no server needed (the
    browser tests that go through the real webhook have ``customer_writes``)."""
    messaging.delivery_record(
        channel=channel,
        messages=[
            messaging.InboundMessage(
                wamid=f"wamid.{uuid4().hex}",
                wa_id=wa_id,
                user_id=None,
                profile_name=name,
                sent_at=timezone.now(),
                type="text",
                text=text,
            )
        ],
    )
