"""How a decision's realtime events leave a process with no event loop of its own (a
Celery worker, the in-process router): through one long-lived loop per process, never
holding the decision's caller longer than the send timeout."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from conversations import realtime

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis channel layer")


def frame(seq: int) -> tuple[int, dict[str, Any]]:
    return 1, {"type": "conversation.updated", "seq": seq, "data": {}}


def test_sends_reach_the_layer_through_one_loop_that_stays():
    layer = get_channel_layer()
    channel = asyncio.run(layer.new_channel())
    asyncio.run(layer.group_add(realtime.member_group(1), channel))

    realtime._send([frame(1)])
    loop = realtime._process_loop()
    realtime._send([frame(2)])

    assert realtime._process_loop() is loop
    assert loop.is_running()

    async def received() -> list[int]:
        return [(await layer.receive(channel))["event"]["seq"] for _ in range(2)]

    assert asyncio.run(received()) == [1, 2]


def test_a_forked_child_starts_a_loop_of_its_own(monkeypatch):
    parents = realtime._process_loop()
    monkeypatch.setattr(realtime.os, "getpid", lambda: -1)

    childs = realtime._process_loop()

    assert childs is not parents
    assert childs.is_running()
    childs.call_soon_threadsafe(childs.stop)


class StuckLayer(RedisChannelLayer):
    """A Redis layer whose sends never finish, as when Redis stops answering."""

    cancelled = False

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            StuckLayer.cancelled = True
            raise


def test_a_send_that_cannot_finish_is_logged_and_given_up(monkeypatch, caplog):
    monkeypatch.setattr(realtime, "SEND_TIMEOUT_SECONDS", 0.1)
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: StuckLayer())

    with caplog.at_level(logging.WARNING, logger=realtime.__name__):
        realtime._send([frame(1)])

    assert "realtime sends failed" in caplog.text
    asyncio.run_coroutine_threadsafe(asyncio.sleep(0.05), realtime._process_loop()).result(1)
    assert StuckLayer.cancelled
