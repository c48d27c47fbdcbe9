"""How a decision's realtime events leave a process with no event loop of its own (a
Celery worker, the in-process router): through one long-lived loop per process, in commit
order, without the decision's caller waiting for them."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings

from conversations import realtime

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis channel layer")


def frame(seq: int) -> tuple[int, dict[str, Any]]:
    return 1, {"type": "conversation.updated", "seq": seq, "data": {}}


def test_sends_reach_the_layer_through_one_loop_that_stays_in_commit_order():
    layer = get_channel_layer()
    channel = asyncio.run(layer.new_channel())
    asyncio.run(layer.group_add(realtime.member_group(1), channel))

    realtime._send([frame(1)])
    sender = realtime._process_loop()
    for seq in range(2, 41):
        realtime._send([frame(seq)])

    assert realtime._process_loop() is sender
    assert sender.loop.is_running()

    async def received() -> list[int]:
        return [(await layer.receive(channel))["event"]["seq"] for _ in range(40)]

    assert asyncio.run(received()) == list(range(1, 41))


def test_a_forked_child_starts_a_loop_of_its_own(monkeypatch):
    parents = realtime._process_loop()
    monkeypatch.setattr(realtime.os, "getpid", lambda: -1)

    childs = realtime._process_loop()

    assert childs is not parents
    assert childs.loop.is_running()
    asyncio.run_coroutine_threadsafe(realtime._finish(childs), childs.loop).result(5)
    childs.loop.call_soon_threadsafe(childs.loop.stop)


class StuckLayer(RedisChannelLayer):
    """A Redis layer whose sends never finish, as when Redis stops answering."""

    cancelled = False

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            StuckLayer.cancelled = True
            raise


def test_a_send_that_cannot_finish_holds_up_nobody_and_is_logged_and_given_up(monkeypatch, caplog):
    monkeypatch.setattr(realtime, "SEND_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: StuckLayer())

    with caplog.at_level(logging.WARNING, logger=realtime.__name__):
        started = time.monotonic()
        realtime._send([frame(1)])
        assert time.monotonic() - started < 0.1  # the committer goes on at once
        deadline = time.monotonic() + 5
        while "realtime sends failed" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)

    assert "realtime sends failed" in caplog.text
    assert StuckLayer.cancelled


def test_a_process_that_publishes_and_exits_at_once_still_delivers():
    """A management command's events are sent as it exits, not dropped with it."""
    layer = get_channel_layer()
    channel = asyncio.run(layer.new_channel())
    asyncio.run(layer.group_add(realtime.member_group(1), channel))
    script = (
        "import django; django.setup()\n"
        "from conversations import realtime\n"
        "realtime._send([(1, {'type': 'conversation.updated', 'seq': 7, 'data': {}})])\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cxgear.settings"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert b"Task was destroyed" not in done.stdout + done.stderr

    async def received() -> int:
        return (await asyncio.wait_for(layer.receive(channel), 5))["event"]["seq"]

    assert asyncio.run(received()) == 7
