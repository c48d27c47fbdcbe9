# CXGear chat dock: one image for the web (daphne), the Celery worker and beat.
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
COPY conversations ./conversations
COPY routing ./routing
COPY presence ./presence
COPY channels_whatsapp ./channels_whatsapp
COPY templates ./templates
COPY static ./static

# collectstatic needs settings but no secrets or database.
RUN DEBUG=true python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app cxgear && chown -R cxgear /app
USER cxgear

EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "--proxy-headers", "cxgear.asgi:application"]
