"""The Celery application ``cxgear``: ``celery -A cxgear worker -B``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")

app = Celery("cxgear")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
