"""The dock's socket opens only from a page of the site itself. A browser sends the
agent's session cookie with a websocket handshake whatever page makes it, so a page on
another port or scheme of the same host must be refused like any other site."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from asgiref.sync import sync_to_async
from websockets.exceptions import InvalidStatus

from cxgear.origin import same_origin
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.usefixtures("fast_passwords")]


async def open_socket(server, session: str, origin: str | None):
    headers = {"Cookie": f"sessionid={session}"}
    if origin is not None:
        headers["Origin"] = origin
    return await websockets.connect(
        f"{server.ws_url}/ws/dock/", additional_headers=headers, open_timeout=20
    )


@pytest.fixture
def session(daphne_server):
    agent = MembershipFactory()
    return daphne_server.session_cookie(agent.user)["value"]


@pytest.mark.django_db(transaction=True)
async def test_the_sites_own_page_opens_the_dock(daphne_server, session):
    socket = await open_socket(daphne_server, session, daphne_server.url)
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "snapshot"
    finally:
        await socket.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:9999",  # another port of the same host
        "https://127.0.0.1:{port}",  # another scheme
        "http://localhost:{port}",  # an allowed host, but not the one the page was served on
        "http://127.0.0.1.attacker.example:{port}",
        "http://attacker.example",
        "null",
        None,
    ],
)
async def test_a_page_of_another_origin_is_refused(daphne_server, session, origin):
    if origin is not None:
        origin = origin.format(port=daphne_server.port)
    with pytest.raises(InvalidStatus) as refused:
        socket = await open_socket(daphne_server, session, origin)
        await socket.close()
    assert refused.value.response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_page_served_under_another_allowed_host_name_opens_it_there(daphne_server):
    agent = await sync_to_async(MembershipFactory)()
    cookie = await sync_to_async(daphne_server.session_cookie)(agent.user)
    socket = await websockets.connect(
        f"ws://localhost:{daphne_server.port}/ws/dock/",
        additional_headers={
            "Cookie": f"sessionid={cookie['value']}",
            "Origin": f"http://localhost:{daphne_server.port}",
        },
        open_timeout=20,
    )
    try:
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "snapshot"
    finally:
        await socket.close()


def handshake(host: str, origin: str, **headers: str) -> dict:
    pairs = [(b"host", host.encode()), (b"origin", origin.encode())]
    pairs += [(k.lower().replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "websocket", "headers": pairs}


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("dock.example.com", "http://dock.example.com", True),
        ("dock.example.com:8000", "http://dock.example.com:8000", True),
        ("dock.example.com", "http://dock.example.com:80", True),
        ("DOCK.example.com:8000", "http://dock.EXAMPLE.com:8000", True),
        ("[::1]:8000", "http://[::1]:8000", True),
        ("dock.example.com:8000", "http://dock.example.com", False),
        ("dock.example.com", "https://dock.example.com", False),
        ("dock.example.com", "http://dock.example.com/", False),
        ("dock.example.com", "http://other.example.com", False),
        # A name pointed at our address is still not our site (DNS rebinding).
        ("attacker.example", "http://attacker.example", False),
    ],
)
def test_only_the_exact_origin_of_the_request_is_same_origin(settings, host, origin, allowed):
    settings.ALLOWED_HOSTS = ["dock.example.com", "[::1]"]
    assert same_origin(handshake(host, origin)) is allowed


def test_behind_a_tls_proxy_the_proxy_names_the_scheme_if_trusted(settings):
    settings.ALLOWED_HOSTS = ["dock.example.com"]
    secure = handshake("dock.example.com", "https://dock.example.com", x_forwarded_proto="https")
    plain_page = handshake("dock.example.com", "http://dock.example.com", x_forwarded_proto="https")

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert same_origin(secure)
    assert not same_origin(plain_page)

    # A header nobody vouches for names nothing.
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not same_origin(secure)
    assert same_origin(plain_page)


def test_a_server_that_names_the_scheme_is_believed(settings):
    settings.ALLOWED_HOSTS = ["dock.example.com"]
    secure = {**handshake("dock.example.com", "https://dock.example.com"), "scheme": "wss"}
    assert same_origin(secure)
    assert not same_origin({**secure, "scheme": "ws"})


def test_csrf_trusted_origins_are_let_in(settings):
    settings.ALLOWED_HOSTS = ["internal.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://dock.example.com:8443", "https://*.example.org"]
    assert same_origin(handshake("internal.example", "https://dock.example.com:8443"))
    assert same_origin(handshake("internal.example", "https://team.example.org"))
    assert not same_origin(handshake("internal.example", "https://dock.example.com"))
    assert not same_origin(handshake("internal.example", "http://team.example.org"))
