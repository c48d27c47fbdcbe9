"""One pass at a time: marks in Redis that a pass of some work is already waiting.

A burst of requests for the same work (route an organization's queue) enqueues one
Celery task, not one per request. The first request sets the mark and enqueues; later
ones find it and do nothing; the task drops the mark as it starts, so any request from
then on enqueues a pass of its own and nothing asked for after the pass began is left
waiting. The expiry only matters when a task is lost between the mark and the broker;
the periodic sweeps cover that case anyway.

The WhatsApp inbox keeps its marks in PostgreSQL instead, beside the deliveries they
cover (``channels_whatsapp.inbox``), and enqueues through ``send_after_commit``; so does
the outbox of replies (``conversations.messaging``), whose rows say what is still owed.

An enqueue that fails is logged and dropped, never raised into the caller's request:
every caller keeps what it asked for in PostgreSQL, and a sweep asks again."""

from __future__ import annotations

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

KEY_PREFIX = "cxgear:pending:"
TTL_SECONDS = 30


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def advisory_lock_keys(namespace: int, ident: int) -> list[int]:
    """The two int4 keys of a PostgreSQL advisory lock: ``namespace``, owned by one kind
    of the project's locks, and ``ident`` (a row's id) folded into an int4."""
    return [namespace, ident % 2**31]


def key(kind: str, ident: int) -> str:
    return f"{KEY_PREFIX}{kind}:{ident}"


def claim(mark: str) -> bool:
    """True when no pass is waiting for this work, so the caller must enqueue one.
    Raises ``redis.RedisError`` when Redis cannot be reached."""
    return bool(_redis().set(mark, 1, nx=True, ex=TTL_SECONDS))


def release(mark: str) -> None:
    """Called as a pass starts. If Redis cannot be reached the mark expires by itself."""
    try:
        _redis().delete(mark)
    except redis.RedisError:
        logger.warning("pass mark not cleared", extra={"mark": mark})


def enqueue_after_commit(mark: str, task: str, *args: object) -> None:
    """Once the caller's transaction commits, enqueue the Celery task at the dotted path
    ``task`` (imported then: task modules import the services that call this) with
    ``args``, unless a pass marked ``mark`` is already waiting. If Redis or the broker
    cannot be reached the request is dropped with a warning: each kind of work has a
    periodic sweep that does what a lost request left undone."""
    transaction.on_commit(lambda: _enqueue(task, args, mark))


def send_after_commit(task: str, *args: object) -> None:
    """``enqueue_after_commit`` for a caller that keeps its own record of what is asked
    for in PostgreSQL (the WhatsApp inbox's marks, the outbox's owed messages): the task
    is always enqueued."""
    transaction.on_commit(lambda: _enqueue(task, args, None))


def _enqueue(task: str, args: tuple[object, ...], mark: str | None) -> None:
    try:
        if mark is None or claim(mark):
            import_string(task).delay(*args)
    except Exception as exc:
        logger.warning(
            "task not enqueued",
            extra={
                "mark": mark,
                "task": task,
                "task_args": list(args),
                "error": type(exc).__name__,
            },
        )
