# CXGear chat dock: one image for the websockets (daphne), the plain HTTP paths
# (granian), the Celery worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml ./
RUN pip install --no-compile .

COPY manage.py ./
COPY cxgear ./cxgear
COPY accounts ./accounts
COPY conversations ./conversations
COPY routing ./routing
COPY presence ./presence
COPY reports ./reports
COPY channels_whatsapp ./channels_whatsapp
COPY webhooks ./webhooks
COPY api ./api
COPY dock ./dock
COPY templates ./templates
COPY static ./static

# collectstatic needs settings but no secrets or database.
RUN DEBUG=true python manage.py collectstatic --noinput

# var/media: customers' and agents' files (MEDIA_ROOT), a volume that web, http and worker share.
RUN useradd --system --uid 10001 --home-dir /app cxgear && mkdir -p /app/var/media && chown -R cxgear /app
USER cxgear

EXPOSE 8000
# A deep listen backlog and a patient handshake: a thousand docks reconnect at once after
# a deploy, and the default backlog (50) and connect timeout (5 s) turn most of them away.
CMD ["daphne", "-e", "tcp:port=8000:interface=0.0.0.0:backlog=1024", "--websocket_connect_timeout", "60", "--proxy-headers", "cxgear.asgi:application"]
