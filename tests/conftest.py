from __future__ import annotations

import os
import shutil
import tempfile

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from conversations.passes import KEY_PREFIX
from cxgear.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test's process unless a test starts a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(scope="session", autouse=True)
def _media_in_a_temporary_folder():
    """Files kept by the tests (and by the servers they start, which read the environment)
    go to a folder of their own, removed after the run."""
    folder = tempfile.mkdtemp(prefix="cxgear-test-media-")
    previous = os.environ.get("MEDIA_ROOT")
    os.environ["MEDIA_ROOT"] = folder
    with override_settings(MEDIA_ROOT=folder):
        yield folder
    if previous is None:
        os.environ.pop("MEDIA_ROOT", None)
    else:
        os.environ["MEDIA_ROOT"] = previous
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_real_cloud_api(settings):
    """No test reaches Meta: where a test starts no fake Cloud API, calls to it (a
    customer's photo being fetched) meet a closed port."""
    settings.WHATSAPP_GRAPH_URL = "http://127.0.0.1:9/v21.0"


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
