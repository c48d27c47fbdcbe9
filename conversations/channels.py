"""The channel interface: what the core needs of a messaging platform, and how a channel
app plugs into it.

The core owns a conversation's messages both ways: inbound, a channel hands it what a
delivery brought as ``messaging.InboundMessage`` and ``messaging.StatusUpdate`` and calls
``messaging.delivery_record``; outbound, the outbox keeps the send intent, claims and
retries (``messaging.message_transmit``). What only a channel knows is how to talk to its
platform: its webhook and the parsing of its deliveries stay in the channel app, and its
``Transport`` sends one message, fetches a customer's media and uploads an agent's. A channel app registers its transport for its
``Channel.kind`` in its ``AppConfig.ready()``, the way Django names its mail and cache
backends: the core looks the transport up by kind and never imports a channel app, so a
second channel is a sibling app that registers its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol, runtime_checkable

from django.conf import settings

from conversations.models import Channel


@dataclass(frozen=True)
class MediaInfo:
    """What the platform says of a medium before its bytes are fetched: where to get them
    (a short-lived address, only for the transport), their type, checksum and size."""

    url: str
    mime_type: str
    sha256: str
    file_size: int | None


@dataclass(frozen=True)
class MediaRule:
    """How the platform takes a type of file: as which kind of message, up to what size."""

    kind: str
    max_bytes: int


class MediaRetryLater(Exception):
    """The platform could not hand the medium over now (busy, unreachable); later may work."""


class MediaUnavailable(Exception):
    """The medium cannot be had: gone, refused, or not what the platform said it is."""


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

    def send_template(
        self, *, channel: Channel, wa_id: str | None, user_id: str | None, template: dict[str, Any]
    ) -> str:
        """Send an approved template (``name``, ``language``, ``parameters`` of its body);
        returns its id as ``send_text`` does."""
        ...

    def mark_read(self, *, channel: Channel, wamid: str, typing: bool) -> None:
        """Show the customer their message ``wamid`` read, with a typing indicator when
        ``typing``. Raises ``messaging.TransientSendError`` when trying again may work."""
        ...


@runtime_checkable
class MediaTransport(Transport, Protocol):
    """A transport whose platform carries files too: it sends an agent's and fetches a
    customer's."""

    def send_media(
        self,
        *,
        channel: Channel,
        wa_id: str | None,
        user_id: str | None,
        kind: str,
        media_id: str,
        caption: str,
        filename: str,
    ) -> str:
        """Send a medium the platform holds (``upload_media``) as a message of ``kind``;
        raises as ``send_text`` does."""
        ...

    def upload_media(
        self, *, channel: Channel, file: BinaryIO, filename: str, mime_type: str
    ) -> str:
        """Hand a file to the platform, read in chunks; returns its media id. Raises as
        ``send_text`` does."""
        ...

    def media_rule(self, *, mime_type: str) -> MediaRule | None:
        """How the platform takes files of ``mime_type`` (no parameters), or None if it
        does not take them."""
        ...

    def media_info(self, *, channel: Channel, media_id: str) -> MediaInfo:
        """Where and what a customer's medium is; raises ``MediaRetryLater`` or
        ``MediaUnavailable``."""
        ...

    def media_bytes(
        self, *, channel: Channel, info: MediaInfo
    ) -> AbstractContextManager[Iterator[bytes]]:
        """The medium's bytes in chunks, as they arrive (never whole in memory); raises as
        ``media_info`` does."""
        ...


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


def media_transport_for(*, kind: str) -> MediaTransport:
    """The transport of ``kind``, which must carry files."""
    transport = transport_for(kind=kind)
    if not isinstance(transport, MediaTransport):
        raise NoTransport(f"the transport of {kind!r} channels carries no files")
    return transport
