"""The baseline under the ingest figures: the least a Django webhook can do, served by
the same WSGI server as the product.

One view, no apps, no middleware: it checks the delivery's signature and inserts its
body as one row, through Django's ORM connection, held as the product holds its own.
Measured in the same run as the product, its rate is the machine's and the server's;
the product's rate over it is what the product's webhook does on top (reading the
channel, checking the payload's shape, the mark that asks for recording).

``bench.bare_webhook:application`` is the WSGI entry; the ingest benchmark makes its
table (``BARE_TABLE``)."""

from __future__ import annotations

import hashlib
import hmac
import os
from urllib.parse import urlsplit

import django
from django.conf import settings

from bench.common import APP_SECRET, BARE_TABLE
from cxgear.postgresql import PREPARED_STATEMENTS, connection_handling


def _database() -> dict[str, object]:
    url = urlsplit(os.environ["DATABASE_URL"])
    # The product's backend, connection handling and statement options, so the ratio is
    # its code.
    handling = connection_handling(
        os.environ.get("DATABASE_CONNECTIONS", "pool"), pool_min=2, pool_max=8
    )
    return {
        "ENGINE": "cxgear.postgresql",
        "NAME": url.path.lstrip("/"),
        "USER": url.username or "postgres",
        "PASSWORD": url.password or "",
        "HOST": url.hostname or "127.0.0.1",
        "PORT": str(url.port or 5432),
        "CONN_MAX_AGE": handling.max_age,
        "CONN_HEALTH_CHECKS": handling.health_checks,
        "OPTIONS": {**handling.options, "application_name": "web", **PREPARED_STATEMENTS},
    }


if not settings.configured:
    settings.configure(
        DEBUG=False,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        DATABASES={"default": _database()},
        USE_TZ=True,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
    )
    django.setup(set_prefix=False)

from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

_KEY = APP_SECRET.encode()


@csrf_exempt
def webhook(request: HttpRequest, channel_key: str) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    body = request.body
    expected = "sha256=" + hmac.new(_KEY, body, hashlib.sha256).hexdigest()
    given = request.headers.get("X-Hub-Signature-256", "")
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return JsonResponse({"error": "bad signature"}, status=401)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (body, received_at) VALUES (%s, %s)", [body, timezone.now()]
        )
    # Sized, as CommonMiddleware would make it: a kept-alive connection, not a chunked body.
    return HttpResponse(b"OK", content_type="text/plain", headers={"Content-Length": "2"})


urlpatterns = [path("webhooks/whatsapp/<str:channel_key>/", webhook)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
