"""``Idempotency-Key`` on every POST of the API, for every view at once (``ScopedAPIView``
calls ``begin`` and ``finish``; a new endpoint has it with no code of its own).

The first POST with a key inserts the row (caller, key) before it runs, and stores its
answer when it ends; the unique pair is the database fact that lets exactly one of
several concurrent retries run. The others wait for that answer and give it back, same
status and body, having done nothing. The same key with another request (method, path
or body) is 422. An answer of 5xx, or a request that never finished, is not kept: the
key may run again. Keys are forgotten after ``API_IDEMPOTENCY_HOURS`` (beat)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.authentication import caller_of
from api.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# How long a retry waits for the first request's answer before it is told to come back.
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
# How long a first request may run before a retry may take its key over (its process
# died: nothing was answered).
RUNNING_LEASE = timedelta(minutes=2)


class KeyMismatch(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with another request; a key names one request."
    default_code = "idempotency_key_reused"


class KeyBusy(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still running; retry later."
    default_code = "idempotency_key_busy"


class Replay(Exception):
    """The key's request ran already: answer what it answered."""

    def __init__(self, row: IdempotentRequest) -> None:
        super().__init__(row.key)
        self.row = row

    def response(self) -> Response:
        return Response(
            self.row.body, status=self.row.status_code, headers={"Idempotent-Replayed": "true"}
        )


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request._request.body)
    except (RawPostDataException, RequestDataTooBig):
        # An upload too large to hold twice is compared by its type and length.
        digest.update(request.headers.get("Content-Type", "").encode())
        digest.update(request.headers.get("Content-Length", "").encode())
    return digest.hexdigest()


def begin(request: Request) -> IdempotentRequest | None:
    """For a POST with a key, after authentication: the row this request now owns (it
    runs), or ``Replay`` raised with the first answer. None when there is no key."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or key is None:
        return None
    if not key.strip() or len(key) > KEY_MAX_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"A key is 1 to {KEY_MAX_LENGTH} printable characters."]}
        )
    caller = caller_of(request)
    if caller is None:
        return None
    fingerprint = _fingerprint(request)
    waited_until = time.monotonic() + WAIT_SECONDS
    while True:
        now = timezone.now()
        row, created = IdempotentRequest.objects.get_or_create(
            caller=caller,
            key=key,
            defaults={"fingerprint": fingerprint, "running_until": now + RUNNING_LEASE},
        )
        if created:
            return row
        if row.fingerprint != fingerprint:
            raise KeyMismatch()
        if row.status_code is not None:
            raise Replay(row)
        # Its first request died unanswered: take it over, if no other retry did.
        if (
            row.running_until is not None
            and row.running_until < now
            and IdempotentRequest.objects.filter(
                pk=row.pk, status_code__isnull=True, running_until=row.running_until
            ).update(running_until=now + RUNNING_LEASE)
        ):
            return row
        if time.monotonic() > waited_until:
            raise KeyBusy()
        time.sleep(POLL_SECONDS)


def finish(row: IdempotentRequest, response: Response) -> None:
    """Keep the answer of the key's request, or let the key go after a server error."""
    if response.status_code >= 500:
        IdempotentRequest.objects.filter(pk=row.pk).delete()
        return
    body: Any = json.loads(json.dumps(response.data, cls=JSONEncoder))
    IdempotentRequest.objects.filter(pk=row.pk).update(
        status_code=response.status_code, body=body, running_until=None
    )


def forget_expired() -> int:
    """Delete keys past ``API_IDEMPOTENCY_HOURS``; returns how many."""
    oldest = timezone.now() - timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=oldest).delete()
    return deleted
