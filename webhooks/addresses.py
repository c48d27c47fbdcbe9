"""Which URLs a subscription may name: no private, loopback or link-local address
(server-side request forgery: a subscriber must not make the server call into its own
network), unless ``WEBHOOK_ALLOW_PRIVATE_URLS`` is on (development and tests, where the
receivers run on 127.0.0.1). Checked when a URL is saved and again before each attempt,
as a name may resolve elsewhere later."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UrlRefused(ValueError):
    """The URL may not be sent events; the message says why."""


def url_check(url: str) -> None:
    """Raise ``UrlRefused`` unless ``url`` is http(s) to a host whose every address is
    public (any host while private URLs are allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UrlRefused("the URL must start with https:// or http://")
    host = parts.hostname
    if not host:
        raise UrlRefused("the URL names no host")
    if settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError):
        raise UrlRefused(f"the host {host} cannot be resolved") from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if not address.is_global:
            raise UrlRefused(
                f"the host {host} resolves to a private or reserved address ({address}); "
                "events are only sent to public addresses"
            )
