"""Settings, read from the environment.

PostgreSQL is the database and Redis the channel layer and Celery broker, everywhere.
``DATABASE_URL`` and ``REDIS_URL`` name them; unset, they are this checkout's own servers
that ``make run`` starts (``cxgear.devservers``). A bad value stops the process at
start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from cxgear import devservers
from cxgear.logging import logging_config
from cxgear.postgresql import PREPARED_STATEMENTS, connection_handling

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from the environment, or from the file named by ``<name>_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {raw!r}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


DEBUG = env_bool("DEBUG", default=env("SECRET_KEY") is None)

SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS") or "").split(",") if h.strip()]
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
# Behind a proxy that terminates TLS (compose's nginx), the scheme it saw arrives in
# X-Forwarded-Proto; only trust it when a proxy in front always sets it.
if env_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("CSRF_TRUSTED_ORIGINS") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "accounts",
    "conversations",
    "presence",
    "routing",
    "reports",
    "channels_whatsapp",
    "webhooks",
    "api",
    "dock",
    # The project itself, for ``manage.py rundock``, which starts every process.
    "cxgear",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cxgear.urls"
WSGI_APPLICATION = "cxgear.wsgi.application"
ASGI_APPLICATION = "cxgear.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------


def embedded_url(variable: str) -> str:
    """The URL of this checkout's own server for ``variable`` (``make run`` started it)."""
    url = devservers.recorded_url(variable)
    if url is None:
        raise ImproperlyConfigured(
            f"{variable} is not set and this checkout's own servers never started: run"
            " `make run`, or export what `python -m cxgear.devservers start` prints"
        )
    return url


DATABASE_URL = env("DATABASE_URL") or embedded_url("DATABASE_URL")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    scheme = DATABASE_URL.split(":", 1)[0]
    raise ImproperlyConfigured(f"DATABASE_URL must name a PostgreSQL database, not {scheme}:")
# Django's backend; a dead connection (after a database restart) is noticed before
# it is used again, without a round trip for the live ones.
DATABASES["default"]["ENGINE"] = "cxgear.postgresql"
options = DATABASES["default"].setdefault("OPTIONS", {})
# Off behind a pooler that hands one session's statements to another (PgBouncer's
# transaction mode before 1.21).
if env_bool("DATABASE_PREPARED_STATEMENTS", True):
    options.update(PREPARED_STATEMENTS)
# A shared pool, or a connection per thread where a WSGI server's threads are fixed
# (granian, as `rundock` and compose start it): ``connection_handling`` says why.
connections_mode = env("DATABASE_CONNECTIONS") or "pool"
try:
    handling = connection_handling(
        connections_mode,
        pool_min=env_int("DATABASE_POOL_MIN", 1, minimum=0),
        pool_max=env_int("DATABASE_POOL_MAX", 10, minimum=1),
    )
except ValueError as exc:
    raise ImproperlyConfigured(
        f"DATABASE_CONNECTIONS must be pool or persistent, not {connections_mode!r}"
    ) from exc
options.update(handling.options)
DATABASES["default"]["CONN_MAX_AGE"] = handling.max_age
DATABASES["default"]["CONN_HEALTH_CHECKS"] = handling.health_checks

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "conversations.User"
AUTHENTICATION_BACKENDS = ["conversations.auth.RoleBackend"]
# Every write path that sets a password runs these (``services.password_check``).
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email", "name"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions in the database, each row naming its user: deactivating a member or setting a
# new password deletes all of theirs at once (``accounts.sessions``).
SESSION_ENGINE = "accounts.sessions"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dock/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# --- media: customers' and agents' files ------------------------------------------------
# Never served from a public URL: ``GET /api/v1/media/<id>/`` reads them from the storage
# for people who may read the conversation. On disk under MEDIA_ROOT, or in an
# S3-compatible bucket (django-storages, ``pip install "django-storages[s3]"``) when
# MEDIA_S3_BUCKET is set.
MEDIA_ROOT = Path(env("MEDIA_ROOT") or BASE_DIR / "var" / "media")
MEDIA_URL = "/api/v1/media/"
MEDIA_S3_BUCKET = env("MEDIA_S3_BUCKET") or ""
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if MEDIA_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": env("MEDIA_S3_REGION") or None,
            "access_key": env("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "location": env("MEDIA_S3_PREFIX") or "",
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
# A customer's file larger than this is kept as a card (name, type, size), not downloaded.
MEDIA_DOWNLOAD_MAX_BYTES = env_int("MEDIA_DOWNLOAD_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
# Attempts at a download that fails for a reason that may pass, and the first wait
# between them (doubling after each).
MEDIA_DOWNLOAD_ATTEMPTS = env_int("MEDIA_DOWNLOAD_ATTEMPTS", 5, minimum=1)
MEDIA_DOWNLOAD_RETRY_SECONDS = env_int("MEDIA_DOWNLOAD_RETRY_SECONDS", 2, minimum=0)
# Uploads beyond Django's in-memory bound go to a temporary file, never whole in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- redis: channel layer and celery ---------------------------------------------------
REDIS_URL = env("REDIS_URL") or embedded_url("REDIS_URL")

CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py's asyncio pool defaults to 100 connections and fails at once
            # when exhausted; a busy daphne process with many docks needs more.
            "hosts": [
                {
                    "address": REDIS_URL,
                    "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 2000, 1),
                    # Every consumer waits on Redis with a 5-second blocking pop;
                    # redis-py 8's default 5-second socket timeout would cut that
                    # wait and drop the socket, so reads may take longer.
                    "socket_timeout": 30,
                }
            ],
            "capacity": 1500,
            "expiry": 30,
            "group_expiry": 86400,
        },
    }
}

# --- cache: counters every process shares (the failed sign-in throttle) ----------------
# On REDIS_URL, under a prefix of its own beside the channel layer's and Celery's keys.
CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cxgear-cache",
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes a prefork worker's whole connection pool before and after
# every task unless told to reuse connections: each task then opened a new PostgreSQL
# connection, most of the CPU of a one-message recording pass. The worker returns its
# connection to the pool after each task instead (``cxgear.celery``), where a dead one
# is noticed as it is handed out; the fixup's own recycle is left to every thousandth.
CELERY_DB_REUSE_MAX = 1000

# --- REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # ``Token <key>``: a member's own token or a named integration token.
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded nesting and storable strings (conversations.json_input); the API takes JSON only.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
API_DESCRIPTION = """Conversations, routing, presence, WhatsApp channels and event webhooks of the
CXGear chat dock.

**Authentication.** Send `Authorization: Token <key>` with every request (the word
`Token`, a space, the key; `Bearer` is not accepted). A key is either a person's own:
`POST /api/v1/auth/token/` with `{"email", "password"}` answers `{"token"}`, and it ends
when that person is deactivated or sets a new password; or a named integration token,
which an admin makes in the admin (API tokens), shown once, starting `cxgi_`: it acts with
the rights of the admin who made it, shows when it was last used, and ends when revoked,
or when that admin is deactivated or is no longer an admin.

**Limits.** Each token may make `API_RATE_PER_MINUTE` requests a minute, of which
`API_WRITE_RATE_PER_MINUTE` writes; past that, 429 with `Retry-After` (seconds).

**Retries.** Every POST takes an `Idempotency-Key` header: a retry with the same key and
body answers the first result and does nothing twice; the same key with another body is
422. Keys are kept 24 hours per token.

**Event webhooks.** `webhooks/` subscribes a URL to event types; each event is POSTed
signed `X-CXGear-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`.
"""
SPECTACULAR_SETTINGS = {
    "TITLE": "CXGear chat dock API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ConversationStatusEnum": "conversations.models.ConversationStatus",
        "MessageStatusEnum": "conversations.models.MessageStatus",
        "PresenceStatusEnum": "presence.models.PresenceStatus",
    },
}

# --- product settings (CONTRACT "Settings") --------------------------------------------
WHATSAPP_GRAPH_URL = (env("WHATSAPP_GRAPH_URL") or "https://graph.facebook.com/v21.0").rstrip("/")
ROUTING_STICKY_WINDOW_HOURS = env_int("ROUTING_STICKY_WINDOW_HOURS", 72)
ROUTING_STICKY_WAIT_SECONDS = env_int("ROUTING_STICKY_WAIT_SECONDS", 60)
ROUTING_TRANSFER_WAIT_SECONDS = env_int("ROUTING_TRANSFER_WAIT_SECONDS", 120)
PRESENCE_DISCONNECT_GRACE_SECONDS = env_int("PRESENCE_DISCONNECT_GRACE_SECONDS", 60)
ROUTING_OFFLINE_REASSIGN_SECONDS = env_int("ROUTING_OFFLINE_REASSIGN_SECONDS", 120)
ROUTING_SWEEP_SECONDS = env_int("ROUTING_SWEEP_SECONDS", 10, minimum=1)
# How often a connected dock beats; the disconnect grace counts from one interval after
# the last beat, so a live dock is never dropped.
PRESENCE_HEARTBEAT_SECONDS = env_int("PRESENCE_HEARTBEAT_SECONDS", 20, minimum=1)
# Beat's jobs: the routing sweep (vanished docks, offline reassignment, lost triggers),
# the recording of webhook deliveries whose task was lost, the outbox's sweep (replies
# whose send no worker took) and the first-reply breaches no scheduled check recorded.
CELERY_BEAT_SCHEDULE = {
    name: {
        "task": task,
        "schedule": float(ROUTING_SWEEP_SECONDS),
        "options": {"expires": float(ROUTING_SWEEP_SECONDS)},
    }
    for name, task in [
        ("routing-sweep", "routing.tasks.sweep"),
        ("inbound-recovery", "channels_whatsapp.tasks.recover_deliveries"),
        ("outbound-recovery", "conversations.tasks.hand_over_overdue_messages"),
        ("sla-breaches", "conversations.tasks.sweep_sla_breaches"),
        ("webhooks-overdue", "webhooks.tasks.deliver_overdue"),
    ]
}
# Each number's message templates, as its business account now has them (their review
# status changes on Meta's side).
CELERY_BEAT_SCHEDULE["template-sync"] = {
    "task": "channels_whatsapp.tasks.sync_all_templates",
    "schedule": 24 * 3600.0,
    "options": {"expires": 3600.0},
}
# Hourly: the webhooks' delivery log and the API's idempotency keys past their time.
CELERY_BEAT_SCHEDULE |= {
    name: {"task": task, "schedule": 3600.0, "options": {"expires": 3600.0}}
    for name, task in [
        ("webhooks-trim-log", "webhooks.tasks.trim_log"),
        ("idempotency-keys-expire", "api.tasks.expire_idempotency_keys"),
    ]
}

# --- event webhooks (``webhooks``, docs/webhooks.md) ---------------------------------------
# Private, loopback and link-local receivers: refused in production (a subscriber must
# not reach into the deployment's own network), allowed while DEBUG and in tests.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG)
# One attempt's limit: connecting takes at most 2 s, the whole answer this long.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Retries wait from this long, doubling to the max, each drawn between half and all of it.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 10, minimum=0)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600, minimum=0)
# An event not delivered this long after it was queued is given up (failed).
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24, minimum=1)
# This many failed attempts in a row pause a subscription (with the reason).
WEBHOOK_PAUSE_AFTER_FAILURES = env_int("WEBHOOK_PAUSE_AFTER_FAILURES", 30, minimum=1)
# Receivers a worker process sends to at once (a thread per subscription's chain).
WEBHOOK_DELIVERY_THREADS = env_int("WEBHOOK_DELIVERY_THREADS", 16, minimum=1)
# Delivered and failed events and their attempts are kept this long.
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 7, minimum=1)

# --- the API's limits and idempotency (``api.throttles``, ``api.idempotency``) -------------
# Requests per minute of one API token; 429 with Retry-After past it. Session callers
# (the product's own pages) are not limited.
API_RATE_PER_MINUTE = env_int("API_RATE_PER_MINUTE", 600, minimum=1)
# Writes (POST, PATCH, PUT, DELETE) per minute of one token, within the rate above.
API_WRITE_RATE_PER_MINUTE = env_int("API_WRITE_RATE_PER_MINUTE", 120, minimum=1)
# How long an Idempotency-Key is remembered.
API_IDEMPOTENCY_HOURS = env_int("API_IDEMPOTENCY_HOURS", 24, minimum=1)
# Failed sign-ins (``accounts.throttle``): after this many for one e-mail, or from one
# address, within the window, sign-ins are refused with 429 until the window passes. An
# address is shared by a contact centre's agents behind one NAT, hence its higher limit.
SIGNIN_FAILURES_PER_EMAIL = env_int("SIGNIN_FAILURES_PER_EMAIL", 10, minimum=1)
SIGNIN_FAILURES_PER_ADDRESS = env_int("SIGNIN_FAILURES_PER_ADDRESS", 100, minimum=1)
SIGNIN_THROTTLE_WINDOW_SECONDS = env_int("SIGNIN_THROTTLE_WINDOW_SECONDS", 15 * 60, minimum=1)
# Behind a proxy that appends the client's address to X-Forwarded-For (compose's nginx):
# the throttle counts that address, not the proxy's.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", default=False)
RATELIMIT_IP_META_KEY = "accounts.throttle.client_address"
# Where the webhook_url of a channel points; the public base URL of this deployment.
PUBLIC_BASE_URL = (env("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")

# --- logging: to stdout ----------------------------------------------------------------
# JSON lines for production; ``human`` (``make run`` sets it) for a person at the console.
LOG_LEVEL = (env("LOG_LEVEL") or "INFO").upper()
LOG_FORMAT = (env("LOG_FORMAT") or "json").lower()
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)

# --- what browsers are told --------------------------------------------------------------
# Scripts, styles and connections only from this site, no inline script or style on any
# page (the dock, the board, the login page, the admin and the API docs keep theirs in
# static files): text a customer wrote can never become code in an agent's page. data:
# images are for the API docs' stylesheet icons and the favicon.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # A picture picked to send is previewed from its blob: URL before it is uploaded.
        "img-src": [SELF, "data:", "blob:"],
        # Voice notes and videos come from the media API (/api/v1/media/<id>/).
        "media-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Sent on HTTPS responses only (SecurityMiddleware asks request.is_secure(), which
# believes a TLS proxy's X-Forwarded-Proto when TRUST_X_FORWARDED_PROTO says so).
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
