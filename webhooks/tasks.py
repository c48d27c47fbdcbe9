"""Celery tasks of the event webhooks: thin, they take ids and run the delivery chain."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import Task, shared_task
from django.conf import settings
from django.db import connections

from conversations import passes
from webhooks import delivery, services

logger = logging.getLogger(__name__)

_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_starting = threading.Lock()


def _threads() -> ThreadPoolExecutor:
    """This process's chain threads, started on first use (a forked worker child starts
    its own: the parent's threads did not come along)."""
    global _pool
    current = _pool
    if current is None or current[0] != os.getpid():
        with _pool_starting:
            current = _pool
            if current is None or current[0] != os.getpid():
                executor = ThreadPoolExecutor(
                    max_workers=settings.WEBHOOK_DELIVERY_THREADS,
                    thread_name_prefix="webhook-chain",
                )
                current = _pool = (os.getpid(), executor)
    return current[1]


def _run_chain(subscription_id: int) -> None:
    try:
        delivery.chain_run(subscription_id)
    except Exception:
        # The events stay pending; the sweep starts the chain again.
        logger.exception("webhook chain failed", extra={"subscription": subscription_id})
    finally:
        connections.close_all()


@shared_task(bind=True)
def deliver(self: Task, subscription_id: int) -> None:
    """Run the subscription's delivery chain in a thread of the worker, so the task's
    slot is free at once and a receiver that hangs holds only its own thread. Eager (the
    test suite's), the chain runs here and now."""
    passes.drop_mark(services.CHAIN, subscription_id)
    if self.request.is_eager:
        delivery.chain_run(subscription_id, schedule=False)
        return
    _threads().submit(_run_chain, subscription_id)


@shared_task
def deliver_overdue() -> None:
    """Run by beat: start the chains of subscriptions owed a due event with no chain
    running (a lost request, or a retry whose time has come)."""
    services.chains_request(subscription_ids=services.subscriptions_overdue())


@shared_task
def trim_log() -> None:
    """Run by beat: forget delivered and failed events past ``WEBHOOK_LOG_DAYS``."""
    services.log_trim()
