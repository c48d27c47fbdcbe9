"""The channel interface: what the core needs of a messaging platform, and how a channel
app plugs into it.

The core owns a conversation's messages both ways: inbound, a channel hands it what a
delivery brought as ``messaging.InboundMessage`` and ``messaging.StatusUpdate`` and calls
``messaging.delivery_record``; outbound, the outbox keeps the send intent, claims and
retries (``messaging.message_transmit``). What only a channel knows is how to talk to its
platform: its webhook and the parsing of its deliveries stay in the channel app, and its
``Transport`` sends one message. A channel app registers its transport for its
``Channel.kind`` in its ``AppConfig.ready()``, the way Django names its mail and cache
backends: the core looks the transport up by kind and never imports a channel app, so a
second channel is a sibling app that registers its own."""

from __future__ import annotations

from typing import Protocol

from django.conf import settings

from conversations.models import Channel


def webhook_url(channel: Channel) -> str:
    """Where the platform delivers the channel's messages (``PUBLIC_BASE_URL`` + the
    channel app's webhook path): what an admin gives Meta for the number."""
    return f"{settings.PUBLIC_BASE_URL}/webhooks/{channel.kind}/{channel.key}/"


class Transport(Protocol):
    """Sends one message through a channel's platform.

    ``send_text`` returns the platform's id of the message (its wamid). It raises
    ``messaging.TransientSendError`` when trying again later may work (busy, throttled,
    unreachable) and ``messaging.SendFailure`` when the platform refused the message for
    good; the outbox decides what follows."""

    def send_text(
        self, *, channel: Channel, wa_id: str | None, user_id: str | None, body: str
    ) -> str: ...


class NoTransport(LookupError):
    """No installed channel app registered a transport for that kind of channel."""


_transports: dict[str, Transport] = {}


def register(*, kind: str, transport: Transport) -> None:
    """Make ``transport`` the one that sends for channels of ``kind``. Two different
    transports for one kind are a mistake of the installed apps, refused at start."""
    current = _transports.get(kind)
    if current is not None and current is not transport:
        raise ValueError(f"a transport for {kind!r} channels is registered already")
    _transports[kind] = transport


def transport_for(*, kind: str) -> Transport:
    try:
        return _transports[kind]
    except KeyError:
        raise NoTransport(f"no transport is registered for {kind!r} channels") from None
