"""In the embedded mode (no Redis) there is no Celery worker or beat: the periodic work
(routing sweep, presence grace, offline reassignment, webhook deliveries left unrecorded,
replies whose send was lost) runs inside the server process.

The ASGI module is imported before daphne's event loop runs, so the timer cannot start
then. It starts on the server's first HTTP request (the dock's page comes before its
websocket), as a task on that request's event loop; the sweep itself is synchronous
database work and runs in a worker thread. Management commands never serve a request,
and tests (``PYTEST_CURRENT_TEST``) never start it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_started

logger = logging.getLogger(__name__)

_timer: asyncio.Task[None] | None = None


async def run_periodic_jobs(interval: float) -> None:
    """Sweep every ``interval`` seconds until cancelled; a failed sweep is logged and the
    next one runs on time."""
    from channels_whatsapp.inbox import deliveries_recover
    from conversations.messaging import messages_hand_over_overdue
    from routing.router import sweep

    while True:
        await asyncio.sleep(interval)
        for job in (deliveries_recover, messages_hand_over_overdue, sweep):
            try:
                await database_sync_to_async(job, thread_sensitive=False)()
            except Exception:
                logger.exception("embedded periodic job failed", extra={"job": job.__name__})


async def _start_on_first_request(sender: type, **kwargs: Any) -> None:
    global _timer
    # Only a request served on the server's own loop: a WSGI request would run this in a
    # throwaway loop that ends with the request.
    if _timer is not None or "PYTEST_CURRENT_TEST" in os.environ:
        return
    if not issubclass(sender, ASGIHandler):
        return
    _timer = asyncio.get_running_loop().create_task(
        run_periodic_jobs(float(settings.ROUTING_SWEEP_SECONDS))
    )
    logger.info("embedded periodic jobs started", extra={"every": settings.ROUTING_SWEEP_SECONDS})


def start_embedded_timers() -> None:
    """Start the periodic jobs in this process when running embedded (routing issue)."""
    if settings.EMBEDDED:
        request_started.connect(_start_on_first_request, dispatch_uid="embedded-timers")
