"""The webhook and the worker on stacks of different depths, as they run in production.

Python's recursion limit counts every frame below a call: the webhook's view starts a
few dozen frames into its server, a worker's task many more below the pool, the tracer
and the task machinery. A delivery the webhook could read may then not be readable in
the worker. These helpers give each side of a test the stack the test wants: the
webhook plenty (``WEBHOOK_FRAMES_LEFT``), the worker little (``WORKER_FRAMES_LEFT``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import TypeVar

from channels_whatsapp import inbox

WEBHOOK_FRAMES_LEFT = 2000
WORKER_FRAMES_LEFT = 300

_T = TypeVar("_T")


def _depth() -> int:
    frame: FrameType | None = sys._getframe()
    depth = 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def with_frames_left(frames: int, call: Callable[[], _T]) -> _T:
    """``call()`` with about ``frames`` frames of the recursion limit to spare: the
    test's own stack is used up first, or the limit raised for the call."""
    limit = sys.getrecursionlimit()
    levels = limit - _depth() - frames

    def descend(levels: int) -> _T:
        return call() if levels <= 0 else descend(levels - 1)

    if levels >= 0:
        return descend(levels)
    sys.setrecursionlimit(limit - levels)
    try:
        return call()
    finally:
        sys.setrecursionlimit(limit)


def record_as_a_worker(channel_id: int) -> int:
    """The worker's pass over the channel's kept deliveries, with little stack left."""
    return with_frames_left(
        WORKER_FRAMES_LEFT, lambda: inbox.deliveries_record(channel_id=channel_id)
    )
