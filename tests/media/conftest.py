"""Customers' files and agents' attachments against the fake Cloud API."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from channels_whatsapp.fake_cloud import FakeCloudApi, new_wamid
from conversations.messaging import InboundMessage, delivery_record
from conversations.models import Channel, Conversation, Message
from tests.api.conftest import others, ours  # noqa: F401
from tests.factories import MessageFactory
from tests.fake_cloud_fixture import fake_cloud  # noqa: F401
from tests.live_server import (  # noqa: F401
    browser,
    daphne_process,
    daphne_server,
    fake_cloud_api,
    page,
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def customer_sends(
    conversation: Conversation,
    kind: str,
    media: dict[str, Any],
    *,
    capture: Any,
    text: str = "",
) -> Message:
    """The customer of ``conversation`` sends a file: the delivery is recorded, and what
    it hands on after commit (the download) runs before this returns, as a worker would."""
    channel: Channel = conversation.channel
    with capture(execute=True):
        delivery_record(
            channel=channel,
            messages=[
                InboundMessage(
                    wamid=new_wamid(),
                    wa_id=conversation.contact.wa_id,
                    user_id=None,
                    profile_name=conversation.contact.name,
                    sent_at=datetime.now(tz=UTC),
                    type=kind,
                    text=text,
                    media=media,
                )
            ],
        )
    return Message.objects.filter(conversation=conversation).latest("created_at")


def medium(fake: FakeCloudApi, data: bytes, mime_type: str, **extra: Any) -> dict[str, Any]:
    """A medium kept on the fake, as a webhook names it."""
    media_id = fake.add_media(data, mime_type)
    return {"id": media_id, "mime_type": mime_type, "sha256": sha256(data), **extra}


@pytest.fixture
def chat(ours):  # noqa: F811
    """Ours's agent has a chat whose customer wrote just now."""
    conversation = ours.mine
    conversation.last_inbound_at = timezone.now()
    conversation.save(update_fields=["last_inbound_at"])
    return conversation


@pytest.fixture(autouse=True)
def _quick_passwords(request, settings):
    """Quick hashing, but for the browser tests: their server checks passwords with the
    project's own hashers."""
    if request.node.get_closest_marker("browser") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def kept_file(
    conversation: Conversation, kind: str, data: bytes, mime_type: str, filename: str = ""
) -> Message:
    """A customer's file of ``kind``, downloaded and kept: what ``media/<id>/`` serves."""
    message = cast(Message, MessageFactory(conversation=conversation, type=kind, text=""))
    message.file.save(f"{message.pk}.bin", ContentFile(data), save=False)
    message.media = {
        "mime_type": mime_type,
        "state": "ready",
        "url": f"/api/v1/media/{message.pk}/",
        **({"filename": filename} if filename else {}),
    }
    message.save()
    return message
