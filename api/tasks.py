"""Celery tasks of the API: beat's cleanup of expired idempotency keys."""

from __future__ import annotations

from celery import shared_task

from api import idempotency


@shared_task
def expire_idempotency_keys() -> None:
    idempotency.forget_expired()
