"""Many docks on one daphne process through the Redis channel layer: every agent's
socket gets that agent's event and no one else's. The layer's connection pool is sized
on purpose (``CHANNEL_LAYER_MAX_CONNECTIONS``); hundreds of sockets joining their groups
at once must not exhaust it."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time

import pytest
import websockets
from asgiref.sync import sync_to_async

from conversations import realtime
from conversations.events import EventType
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_passwords"),
]

# More for a measurement: DOCK_FANOUT_SOCKETS=1000.
SOCKETS = int(os.environ.get("DOCK_FANOUT_SOCKETS", "300"))


def signed_in_agents(server, count: int) -> list[tuple[int, str]]:
    organization = OrganizationFactory()
    members = MembershipFactory.create_batch(count, organization=organization)
    return [(m.pk, server.session_cookie(m.user)["value"]) for m in members]


async def test_hundreds_of_docks_each_get_their_own_agents_event(daphne_server):
    agents = await sync_to_async(signed_in_agents)(daphne_server, SOCKETS)
    url = f"{daphne_server.ws_url}/ws/dock/"

    async def open_socket(session_key: str):
        socket = await websockets.connect(
            url,
            additional_headers={"Cookie": f"sessionid={session_key}", "Origin": daphne_server.url},
            open_timeout=60,
            max_queue=None,
        )
        snapshot = json.loads(await asyncio.wait_for(socket.recv(), 60))
        assert snapshot["type"] == "snapshot"
        return socket

    started = time.perf_counter()
    sockets = await asyncio.gather(*(open_socket(key) for _, key in agents))
    connected_in = time.perf_counter() - started

    async def first_event(socket) -> tuple[dict, float]:
        while True:
            frame = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if frame.get("type") == "conversation.updated":
                return frame, time.time()

    waiting = [asyncio.ensure_future(first_event(s)) for s in sockets]

    def publish_one_each() -> None:
        for member_id, _ in agents:
            realtime.publish(
                EventType.CONVERSATION_UPDATED,
                {"member": member_id, "at": time.time()},  # type: ignore[arg-type]
                to=[member_id],
            )

    await sync_to_async(publish_one_each)()
    received = await asyncio.gather(*waiting)

    latencies_ms = []
    for (member_id, _), (frame, arrived) in zip(agents, received, strict=True):
        assert frame["data"]["member"] == member_id
        assert frame["seq"] == 1
        latencies_ms.append((arrived - frame["data"]["at"]) * 1000)
    # Nobody got a colleague's event as well.
    for socket in sockets:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.recv(), 0.01)
    await asyncio.gather(*(s.close() for s in sockets))

    latencies_ms.sort()
    print(
        f"\n{SOCKETS} docks connected in {connected_in:.2f} s; publish-to-socket latency "
        f"p50 {statistics.median(latencies_ms):.1f} ms, "
        f"p99 {latencies_ms[int(len(latencies_ms) * 0.99) - 1]:.1f} ms, "
        f"max {latencies_ms[-1]:.1f} ms"
    )
