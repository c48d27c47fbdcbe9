from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from channels_whatsapp.signature import HEADER, sign
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory
from tests.fake_cloud_fixture import fake_cloud  # noqa: F401


@pytest.fixture
def channel(db):
    return ChannelFactory(required_skills=["renewals"], default_language="en")


@pytest.fixture
def agent(channel):
    return MembershipFactory(organization=channel.organization)


@pytest.fixture
def conversation(channel, agent):
    """An assigned chat whose customer wrote just now: replies may go out."""
    return ConversationFactory(channel=channel, agent=agent, last_inbound_at=timezone.now())


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST a delivery to a channel's webhook, signed with its app secret unless told.
    What the webhook hands on after commit (recording the delivery) runs before this
    returns, as a worker would run it right after the 200."""

    def _post(
        channel,
        payload: Any = None,
        *,
        raw: bytes | None = None,
        secret: str | None = None,
        signature: str | None = None,
        signed: bool = True,
    ):
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = {}
        if signed:
            headers[HEADER] = signature or sign(body, secret or channel.app_secret)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/webhooks/whatsapp/{channel.key}/",
                data=body,
                content_type="application/json",
                headers=headers,
            )

    return _post
