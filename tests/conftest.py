from __future__ import annotations

import pytest

from cxgear.celery import app as celery_app


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in the test's process unless a test starts a real worker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
