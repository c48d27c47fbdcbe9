"""The Celery application ``cxgear``: ``celery -A cxgear worker -B``."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")

app = Celery("cxgear")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _embedded_defaults() -> dict[str, Any]:
    """Without Redis there is no broker: tasks run in the process that sends them.

    A default rather than ``CELERY_TASK_ALWAYS_EAGER``: a setting read from Django would
    win over the value the test suite and its live servers set at run time."""
    from django.conf import settings

    return {"task_always_eager": settings.EMBEDDED}


app.add_defaults(_embedded_defaults)
