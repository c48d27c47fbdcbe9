"""The Celery application ``cxgear``: ``celery -A cxgear worker -B``."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, Task
from celery.signals import after_setup_logger, task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")

app = Celery("cxgear")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
def _human_console(**kwargs: Any) -> None:
    """At the human console of ``make run`` the worker logs as its web processes do:
    Celery's own line for every task received and done would bury what happens to the
    chats (``cxgear.logging``)."""
    from logging.config import dictConfig

    from django.conf import settings

    if settings.LOG_FORMAT == "human":
        dictConfig(settings.LOGGING)


@task_postrun.connect
def _return_connection(sender: Task | None = None, **kwargs: Any) -> None:
    """After a task on a worker, its database connection goes back to the pool, as after
    a web request (``CELERY_DB_REUSE_MAX`` keeps Celery from closing the pool instead). An
    eager task runs inside its caller's request or transaction and leaves it alone."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
