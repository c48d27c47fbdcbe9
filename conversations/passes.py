"""One pass at a time over a piece of work: a worker that takes the work walks all of it
(an organization's routing queue), and the requests that arrive meanwhile coalesce.

Two facts say where a piece of work stands (the states: ``docs/concurrency.md``, "One
pass per organization at a time"):

- the *mark*, in Redis: a pass has been asked for and has not started. A request sets
  it after its transaction commits and enqueues the pass only when it made the mark, so
  a burst of requests enqueues one task. A pass drops it as it starts, so a request
  from then on enqueues a pass of its own and nothing asked for after a pass began is
  left waiting. It expires by itself, which only matters when a task is lost between
  the mark and the broker; the periodic sweeps cover that case anyway.
- the *pass lock*, a PostgreSQL advisory lock of the worker's session: a pass walks
  the work now. A pass that finds it taken comes back a little later with the mark
  still set, so the requests meanwhile enqueue nothing more. PostgreSQL drops the lock
  with the session of a worker that dies.

A kind of work names its marks, its lock's namespace and its task (``PassKind``); the
task's body is ``run_task``, and a sweep that walks the work itself takes the same lock
(``running``). An eager task (the test suite's) that finds the lock taken walks the work
beside the other pass, which is safe, only slower.

Callers that keep their own record of what is owed in PostgreSQL (the WhatsApp inbox's
marks, the outbox's owed replies) enqueue through ``send_after_commit``. An enqueue that
fails is logged and dropped, never raised into the caller's request: a sweep asks again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import redis
from celery import Task
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

KEY_PREFIX = "cxgear:pending:"
MARK_TTL_SECONDS = 30
# A pass that finds another one walking the work comes back this much later, its mark
# still set. After BUSY_RETRIES such returns (a minute) it gives up and the sweep does
# what is left.
BUSY_RETRY_SECONDS = 0.2
BUSY_RETRIES = 300


@dataclass(frozen=True)
class PassKind:
    """A kind of work done in passes: ``name`` keys its marks, ``task`` is the dotted path
    of the Celery task that runs one pass with the work's id (imported when enqueued:
    task modules import the services that ask) and ``lock_namespace`` the first key of
    its pass lock (no other lock of the project uses it, the second is the work's id).
    A kind without a lock (None) lets its passes run side by side: recording's do, each
    taking its deliveries with ``skip_locked``."""

    name: str
    task: str
    lock_namespace: int | None = None


def advisory_lock_keys(namespace: int, ident: int) -> list[int]:
    """The two int4 keys of a PostgreSQL advisory lock: ``namespace``, owned by one kind
    of the project's locks, and ``ident`` (a row's id) folded into an int4."""
    return [namespace, ident % 2**31]


def mark_key(kind: PassKind, ident: int) -> str:
    return f"{KEY_PREFIX}{kind.name}:{ident}"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def request(kind: PassKind, ident: int) -> None:
    """Once the caller's transaction commits, enqueue a pass over the work ``ident``
    unless one is waiting already. If Redis or the broker cannot be reached the request
    is dropped with a warning: each kind of work has a periodic sweep that does what a
    lost request left undone."""
    transaction.on_commit(lambda: _enqueue(kind.task, (ident,), mark_key(kind, ident)))


def send_after_commit(task: str, *args: object) -> None:
    """Enqueue the Celery task at the dotted path ``task`` once the caller commits, for a
    caller that keeps its own mark of a waiting pass: the task is always enqueued."""
    transaction.on_commit(lambda: _enqueue(task, args, None))


def first_within(key: str, *, seconds: int) -> bool:
    """True for the first caller with ``key`` in ``seconds``, across processes (a Redis
    ``SET NX EX``): a throttle. False, with a warning, when Redis cannot be reached."""
    try:
        return bool(_redis().set(key, 1, nx=True, ex=seconds))
    except redis.RedisError:
        logger.warning("throttle not reached", extra={"key": key})
        return False


def _claim(mark: str) -> bool:
    """True when no pass is waiting for this work, so the caller must enqueue one."""
    return bool(_redis().set(mark, 1, nx=True, ex=MARK_TTL_SECONDS))


def _enqueue(task: str, args: tuple[object, ...], mark: str | None) -> None:
    try:
        if mark is None or _claim(mark):
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


def drop_mark(kind: PassKind, ident: int) -> None:
    """As a pass starts: requests from now on need a pass of their own. If Redis cannot
    be reached the mark expires by itself."""
    try:
        _redis().delete(mark_key(kind, ident))
    except redis.RedisError:
        logger.warning("pass mark not dropped", extra={"kind": kind.name, "ident": ident})


@contextmanager
def running(kind: PassKind, ident: int) -> Iterator[bool]:
    """Hold the pass lock of the work ``ident`` for the block: True when this pass may
    walk it (its mark is dropped first), False when another pass walks it now. The lock
    is the session's, let go at the end of the block; a connection that refuses to let
    it go is closed for good."""
    if kind.lock_namespace is None:
        raise ValueError(f"passes of {kind.name} take no lock")
    keys = advisory_lock_keys(kind.lock_namespace, ident)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", keys)
        (ours,) = cursor.fetchone()
    if not ours:
        yield False
        return
    try:
        drop_mark(kind, ident)
        yield True
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", keys)
        except DatabaseError:
            logger.warning("pass lock not let go: its session ends", extra={"kind": kind.name})
            _end_session()


def _end_session() -> None:
    """Close this thread's connection for good, so that its session's locks go with it.
    A connection that failed has lost them already; one that is alive but refused the
    unlock (a failed transaction around the pass) must not go back to a pool holding
    the lock, or every later pass over the work would wait for it in vain."""
    raw = connection.connection
    if raw is not None:
        raw.close()  # a pool drops a closed connection instead of lending it again
    connection.close()


def run_task(task: Task, kind: PassKind, ident: int, walk: Callable[[], object]) -> None:
    """The body of a pass's Celery task (bound, ``max_retries=BUSY_RETRIES``): ``walk``
    the work under its pass lock, or, when another pass holds it, come back later with
    the mark kept. Run eagerly (the test suite's tasks) there is no worker to come back later:
    the pass walks the work beside the other one."""
    with running(kind, ident) as ours:
        if not ours:
            if not task.request.is_eager:
                if task.request.retries >= BUSY_RETRIES:
                    logger.info("pass left to the sweep", extra={"kind": kind.name, "ident": ident})
                    return
                raise task.retry(countdown=BUSY_RETRY_SECONDS)
            drop_mark(kind, ident)
        walk()
