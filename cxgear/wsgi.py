"""WSGI entry point: granian serves the plain HTTP paths from it, where throughput matters.

Signed WhatsApp deliveries (``POST /webhooks/whatsapp/<key>/``) skip the middleware
stack and URL resolving: no middleware does anything for them (no session, no user, no
CSRF check, no page to frame), and at webhook rates the stack cost a quarter of each
request's CPU. Everything else, the webhook's GET handshake included, takes Django's
usual path. Both share Django's WSGI handling: the request signals that return pooled
database connections, error responses and their logging."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import cast

import django
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.log import log_response


class WebhookFirstHandler(WSGIHandler):
    """Django's WSGI handler, with the middleware chain left out for webhook deliveries."""

    def __init__(self) -> None:
        super().__init__()
        # Resolved while the worker starts: the first reverse() imports every URL module
        # (the API and its schema, 0.15 s of CPU here), and done lazily it held up every
        # thread of a fresh worker with the first deliveries waiting on them.
        from channels_whatsapp.views import webhook

        self.webhook: Callable[..., HttpResponse] = webhook
        example = reverse("whatsapp-webhook", kwargs={"channel_key": "-"})
        self.webhook_prefix = example.removesuffix("-/")

    def _channel_key(self, request: HttpRequest) -> str | None:
        """The key of a delivery's URL, as the URL pattern would read it, else None."""
        if request.method != "POST" or not request.path_info.startswith(self.webhook_prefix):
            return None
        rest = request.path_info[len(self.webhook_prefix) :]
        key = rest.removesuffix("/")
        if not key or key == rest or "/" in key:
            return None
        return key

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        channel_key = self._channel_key(request)
        if channel_key is None:
            return super().get_response(request)
        view = partial(self.webhook, channel_key=channel_key)
        # A sync view's answer, or the HttpResponse made of the exception it raised.
        response = cast(HttpResponse, convert_exception_to_response(view)(request))
        response._resource_closers.append(request.close)  # type: ignore[attr-defined]
        if not response.streaming and not response.has_header("Content-Length"):
            # As CommonMiddleware does: a sized body, not a chunked one, on a kept-alive connection.
            response.headers["Content-Length"] = str(len(response.content))
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        return response


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")
django.setup(set_prefix=False)
application = WebhookFirstHandler()
