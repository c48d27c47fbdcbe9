"""The WhatsApp webhook: Meta's verification handshake and its signed deliveries.

A delivery is checked here (signature, then shape) and kept as it came; its messages and
statuses are recorded right after, in Celery (``channels_whatsapp.inbox``), so the 200
goes out as soon as the delivery is durably stored."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from channels_whatsapp.inbox import delivery_accept
from channels_whatsapp.payload import PayloadError, load_json, parse_delivery
from channels_whatsapp.selectors import webhook_channel
from channels_whatsapp.signature import HEADER, signature_is_valid
from conversations.models import Channel

logger = logging.getLogger(__name__)


def _error(status: int, error: str, detail: str = "") -> JsonResponse:
    body = {"error": error, "detail": detail} if detail else {"error": error}
    return JsonResponse(body, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, channel_key: str) -> HttpResponse:
    channel = webhook_channel(channel_key)
    if channel is None:
        return _error(404, "no channel has this webhook key")
    if request.method == "GET":
        return _verify(request, channel)
    return _receive(request, channel)


def _verify(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Meta subscribes the URL by asking it to echo ``hub.challenge``."""
    if (
        request.GET.get("hub.mode") == "subscribe"
        and channel.verify_token
        and request.GET.get("hub.verify_token") == channel.verify_token
    ):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return _error(403, "verification failed: wrong hub.mode or hub.verify_token")


def _receive(request: HttpRequest, channel: Channel) -> HttpResponse:
    body = request.body
    if not signature_is_valid(
        body=body, header=request.headers.get(HEADER), app_secret=channel.app_secret
    ):
        return _error(401, f"missing or wrong {HEADER} signature")
    try:
        document = load_json(body)
    except ValueError as exc:
        return _error(400, "the body is not valid JSON", str(exc))
    try:
        delivery = parse_delivery(document, phone_number_id=channel.phone_number_id)
    except PayloadError as exc:
        return _error(400, "the body is not a WhatsApp Cloud API delivery", str(exc))
    for error in delivery.errors:
        logger.warning("whatsapp reported an error", extra={"channel": channel.pk, "error": error})
    if delivery.foreign_values:
        logger.warning(
            "delivery for another phone number id not stored",
            extra={"channel": channel.pk, "values": delivery.foreign_values},
        )
    if delivery.messages or delivery.statuses:
        delivery_accept(channel=channel, body=body)
    return JsonResponse(
        {"received": {"messages": len(delivery.messages), "statuses": len(delivery.statuses)}}
    )
