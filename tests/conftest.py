from __future__ import annotations

import pytest
import redis
from django.conf import settings

from conversations.passes import KEY_PREFIX
from cxgear.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test's process unless a test starts a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def _delete_redis_keys(url: str, pattern: str) -> None:
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(pattern):
        client.delete(key)
    client.close()


@pytest.fixture(autouse=True)
def _no_pass_pending():
    """Ids repeat between tests: a pass mark left by an earlier test's worker must not
    hold back this test's requests."""
    _delete_redis_keys(settings.REDIS_URL, f"{KEY_PREFIX}*")


@pytest.fixture(autouse=True)
def _no_typing_throttle_left():
    """Conversation ids repeat between tests: an earlier test's typing mark must not
    throttle this one's (``conversations.receipts``)."""
    _delete_redis_keys(settings.REDIS_URL, "cxgear:typing:*")


@pytest.fixture(autouse=True)
def _no_signin_failures_left():
    """Every test signs in from the same address with the factories' e-mails: failures
    an earlier test (or run) counted must not lock this one out."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    _delete_redis_keys(settings.REDIS_URL, f"{prefix}:*")


@pytest.fixture
def broker():
    """The real broker, not eager tasks: what is enqueued stays in Redis's queue list."""
    celery_app.conf.task_always_eager = False
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete("celery")
    yield client
    client.delete("celery")
    client.close()
