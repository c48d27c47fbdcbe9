"""Deactivating a member or changing their password ends every way they are signed in, at
once: their API tokens answer 401, their sessions are gone, and every open dock of theirs
is closed with the code the page shows as "Signed out". Proved against daphne with the
Redis channel layer, with real sockets, as an agent's browser holds them."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any, cast

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations.models import Membership, Role, User
from dock.consumers import CLOSE_NOT_SIGNED_IN, CLOSE_SIGNED_OUT
from presence.models import AgentPresence, PresenceStatus
from tests.dock.conftest import as_user, command, open_dock
from tests.factories import PASSWORD, MembershipFactory
from tests.live_server import sign_in

# The live server checks passwords with the production hashers: no quick ones here.
pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-new-and-longer-passphrase-42"


def team() -> dict[str, Any]:
    admin = cast(Membership, MembershipFactory(role=Role.ADMIN, max_open=0))
    agent = cast(Membership, MembershipFactory(organization=admin.organization))
    return {
        "admin_token": Token.objects.create(user=admin.user).key,
        "agent": agent,
        "agent_token": Token.objects.create(user=agent.user).key,
    }


async def open_socket(server, session_key: str):
    socket = await websockets.connect(
        f"{server.ws_url}/ws/dock/",
        additional_headers={"Cookie": f"sessionid={session_key}", "Origin": server.url},
        open_timeout=30,
    )
    first = json.loads(await asyncio.wait_for(socket.recv(), 30))
    assert first["type"] == "snapshot"
    return socket


async def closed_within(socket, seconds: float) -> int | None:
    """The socket's close code if the server closes it within ``seconds``."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.wait_for(socket.recv(), left)
    except websockets.ConnectionClosed:
        return socket.close_code
    except TimeoutError:
        pass
    return None


def admin_changes(token: str, member_id: int, body: dict) -> None:
    """The admin's PATCH, made in this process: the live server keeps content type ids
    from before the harness last emptied the database, which the audit's log would meet.
    What it commits reaches the live server's sockets through Redis all the same."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.patch(f"/api/v1/members/{member_id}/", body, format="json")
    assert response.status_code == 200, response.content


async def me_with(server, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        response = await http.get("/api/v1/me/", headers={"Authorization": f"Token {token}"})
    return response.status_code


async def dock_page_with(server, session_key: str) -> int:
    async with httpx.AsyncClient(
        base_url=server.url, timeout=10, cookies={"sessionid": session_key}
    ) as http:
        response = await http.get("/dock/")
    return response.status_code


@pytest.mark.parametrize(
    "change", [{"active": False}, {"password": NEW_PASSWORD}], ids=["deactivated", "new-password"]
)
async def test_the_old_token_gets_401_and_the_open_dock_closes_within_a_second(
    daphne_server, change
):
    people = await sync_to_async(team)()
    agent = people["agent"]
    session_key = (await sync_to_async(daphne_server.session_cookie)(agent.user))["value"]
    socket = await open_socket(daphne_server, session_key)
    assert await me_with(daphne_server, people["agent_token"]) == 200

    await sync_to_async(admin_changes)(people["admin_token"], agent.pk, change)

    assert await closed_within(socket, 1.0) == CLOSE_SIGNED_OUT
    assert await me_with(daphne_server, people["agent_token"]) == 401
    assert await dock_page_with(daphne_server, session_key) == 302  # to the sign-in page
    # The same cookie opens no dock any more.
    again = await websockets.connect(
        f"{daphne_server.ws_url}/ws/dock/",
        additional_headers={"Cookie": f"sessionid={session_key}", "Origin": daphne_server.url},
    )
    assert await closed_within(again, 5.0) == CLOSE_NOT_SIGNED_IN


async def test_after_a_new_password_the_member_signs_in_again_with_it(daphne_server):
    people = await sync_to_async(team)()
    agent = people["agent"]
    await sync_to_async(admin_changes)(people["admin_token"], agent.pk, {"password": NEW_PASSWORD})

    async with httpx.AsyncClient(base_url=daphne_server.url, timeout=10) as http:
        old = await http.post(
            "/api/v1/auth/token/", json={"email": agent.user.email, "password": PASSWORD}
        )
        new = await http.post(
            "/api/v1/auth/token/", json={"email": agent.user.email, "password": NEW_PASSWORD}
        )
    assert old.status_code == 400
    assert new.status_code == 200
    assert new.json()["token"] != people["agent_token"]
    user = await sync_to_async(User.objects.get)(pk=agent.user_id)
    session_key = (await sync_to_async(daphne_server.session_cookie)(user))["value"]
    socket = await open_socket(daphne_server, session_key)
    await socket.close()


async def test_a_command_on_a_dock_whose_member_was_deactivated_is_refused():
    """Defence in depth: were the close lost, the next command finds the member gone."""
    agent = await sync_to_async(MembershipFactory)()
    communicator, _ = await open_dock(agent)
    # Deactivated behind the service's back: no close is on its way to this socket.
    await sync_to_async(User.objects.filter(pk=agent.user_id).update)(is_active=False)

    await communicator.send_json_to({"type": "presence.set", "id": 1, "status": "busy"})

    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}
    presence = await sync_to_async(AgentPresence.objects.get)(membership=agent)
    assert presence.status == PresenceStatus.AVAILABLE


async def test_a_command_on_a_dock_opened_before_a_password_change_is_refused():
    agent = await sync_to_async(MembershipFactory)()
    communicator, _ = await open_dock(agent)
    user = await sync_to_async(User.objects.get)(pk=agent.user_id)
    user.set_password(NEW_PASSWORD)
    await sync_to_async(user.save)()

    await communicator.send_json_to({"type": "heartbeat", "id": 1})

    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}


async def test_a_colleagues_dock_is_left_open():
    agent = await sync_to_async(MembershipFactory)()
    colleague = await sync_to_async(MembershipFactory)(organization=agent.organization)
    theirs, _ = await open_dock(colleague)
    await sync_to_async(User.objects.filter(pk=agent.user_id).update)(is_active=False)

    reply = await command(theirs, {"type": "presence.set", "id": 1, "status": "busy"})

    assert reply["ok"] is True
    await theirs.disconnect()


async def test_a_dock_opening_as_its_member_is_deactivated_is_closed():
    """The user was loaded from the session just before the deactivation committed."""
    agent = await sync_to_async(MembershipFactory)()
    await sync_to_async(User.objects.filter(pk=agent.user_id).update)(is_active=False)
    user = await sync_to_async(User.objects.get)(pk=agent.user_id)

    communicator = WebsocketCommunicator(as_user(user), "/ws/dock/")
    await communicator.connect()

    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_SIGNED_OUT}


@pytest.mark.browser
def test_the_dock_says_signed_out_and_stops_reconnecting(page, daphne_server):
    people = team()
    agent = people["agent"]
    sockets: list[object] = []
    page.on("websocket", lambda socket: sockets.append(socket))
    sign_in(page, agent.user.email)
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")

    admin_changes(people["admin_token"], agent.pk, {"active": False})

    expect(page.locator("#connection")).to_have_text("Signed out", timeout=2_000)
    opened = len(sockets)
    # A reconnect would come within the first back-off (under a second).
    page.wait_for_timeout(2_500)
    assert len(sockets) == opened
    expect(page.locator("#connection")).to_have_text("Signed out")
