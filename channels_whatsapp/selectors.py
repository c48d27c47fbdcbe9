"""Reads of the WhatsApp channel."""

from __future__ import annotations

import time

from conversations.models import Channel, ChannelKind

# How long a process trusts a channel it read for the webhook. A changed app secret or
# phone number id takes effect within this time (Meta retries what was refused
# meanwhile); it saves a database round trip on every delivery.
CHANNEL_CACHE_SECONDS = 5.0

_channels: dict[str, tuple[float, Channel]] = {}


def webhook_channel(key: str) -> Channel | None:
    """The WhatsApp channel whose webhook URL ends in ``key``, or None. Only channels
    that exist are remembered, so unknown keys cannot fill the memory."""
    now = time.monotonic()
    known = _channels.get(key)
    if known is not None and known[0] > now:
        return known[1]
    channel = Channel.objects.filter(key=key, kind=ChannelKind.WHATSAPP).first()
    if channel is None:
        _channels.pop(key, None)
    else:
        _channels[key] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel
