"""Websocket handshakes are let in only from this site's own pages.

A browser sends the session cookie with a websocket handshake whatever page opens it, so
the ``Origin`` the browser names is what tells the dock's page from another. It must be
exactly the origin the request was made to: the scheme, host and port of the ``Host``
header (the host one of ``ALLOWED_HOSTS``), or one of ``CSRF_TRUSTED_ORIGINS``. A page on
another port of the same host, or served over plain HTTP to a site served over HTTPS, is
another origin and is refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            try:
                return str(value.decode("latin1"))
            except (AttributeError, UnicodeDecodeError):
                return None
    return None


def _request_scheme(scope: dict[str, Any]) -> str:
    """``http`` or ``https``: what the browser's page would be served over. A server that
    names the websocket's scheme (``wss``) says it; daphne names none, so behind a proxy
    that ends TLS the proxy's header says it when the deployment trusts it
    (``TRUST_X_FORWARDED_PROTO``), and otherwise the socket is plain."""
    named = scope.get("scheme")
    if named in ("ws", "http"):
        return "http"
    if named in ("wss", "https"):
        return "https"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode("latin1")
        forwarded = _header(scope, header)
        if forwarded is not None:
            first = forwarded.split(",", 1)[0].strip()
            return "https" if first == secure_value else "http"
    return "http"


def _allowed_hosts() -> list[str]:
    # As Django's HttpRequest.get_host: an empty list under DEBUG means the local names.
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _origin_key(scheme: str, host: str, port: int | str | None) -> tuple[str, str, int] | None:
    host = host.lower().strip("[]")
    if scheme not in DEFAULT_PORTS or not host:
        return None
    try:
        number = int(port) if port not in (None, "") else DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    return scheme, host, number


def _parse_origin(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return _origin_key(parts.scheme.lower(), parts.hostname or "", port)


def _trusted(origin: str) -> bool:
    """One of ``CSRF_TRUSTED_ORIGINS``, read as Django's CSRF check reads them (a ``*.``
    host stands for its subdomains)."""
    parsed = urlsplit(origin)
    key = _parse_origin(origin)
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" not in trusted:
            if key is not None and _parse_origin(trusted) == key:
                return True
            continue
        pattern = urlsplit(trusted)
        if pattern.scheme == parsed.scheme and is_same_domain(
            parsed.netloc, pattern.netloc.removeprefix("*")
        ):
            return True
    return False


def same_origin(scope: dict[str, Any]) -> bool:
    """Whether a websocket handshake comes from a page of the site it was made to."""
    origin = _header(scope, b"origin")
    host = _header(scope, b"host")
    if not origin or origin == "null":
        return False
    if _trusted(origin):
        return True
    if not host:
        return False
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return False
    expected = _origin_key(_request_scheme(scope), domain, port)
    return expected is not None and _parse_origin(origin) == expected


class SameOriginValidator:
    """ASGI middleware: a websocket handshake from another origin is refused (403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not same_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
