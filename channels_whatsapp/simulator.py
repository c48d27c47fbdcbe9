"""Made-up customers writing to a WhatsApp number, for the demo's live traffic.

Each delivery is what Meta would post: one customer's message (now and then two, batched)
with their profile, signed with the channel's app secret. Now and then a customer sends a
photo, a voice note or a document: the fake Cloud API holds them under fixed ids
(``fake_cloud.SAMPLE_MEDIA``), so the server downloads them as it would from Meta. Some customers come back and
keep their conversation going; some hide their number behind a username and are known
only by a business-scoped user id; they write in several languages. Given the fake Cloud
API's address, some customers answer the templates agents send them (``TemplateReplies``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from channels_whatsapp.fake_cloud import (
    SAMPLE_DOCUMENT_ID,
    SAMPLE_PHOTO_ID,
    SAMPLE_VOICE_ID,
    new_wamid,
    sample_bytes,
    webhook_delivery,
)
from channels_whatsapp.signature import HEADER, sign


@dataclass(frozen=True)
class Customer:
    name: str
    language: str
    wa_id: str | None
    user_id: str | None = None


_NAMES = {
    "en": ["Olivia Bennett", "James Carter", "Amelia Hughes", "Noah Patel", "Grace Kim"],
    "es": ["Lucía Fernández", "Mateo García", "Sofía Morales", "Diego Ramírez"],
    "fr": ["Camille Laurent", "Louis Moreau", "Chloé Dubois"],
    "de": ["Lena Schmidt", "Felix Wagner", "Mia Becker"],
    "pt": ["Beatriz Souza", "Rafael Lima"],
}
_COUNTRY = {
    "en": ("44", "GB"),
    "es": ("34", "ES"),
    "fr": ("33", "FR"),
    "de": ("49", "DE"),
    "pt": ("55", "BR"),
}

TEXTS = {
    "en": [
        "Hi, my fibre installation was meant to be today but nobody came.",
        "Can I renew my contract with the 20% discount?",
        "My last bill is higher than usual, can you check why?",
        "The router light keeps blinking orange.",
        "Is there a technician slot available this week?",
        "I'd like to upgrade to the faster plan.",
        "Thanks, that worked!",
        "Hello? Is anyone there?",
    ],
    "es": [
        "Hola, quiero renovar mi contrato antes de mayo.",
        "La instalación de fibra se retrasó otra vez.",
        "¿Por qué mi factura es tan alta este mes?",
        "Gracias por la ayuda.",
        "El router no tiene internet desde ayer.",
        "¿Cuándo viene el técnico?",
    ],
    "fr": [
        "Bonjour, mon installation fibre n'a toujours pas eu lieu.",
        "Je voudrais profiter de l'offre de renouvellement.",
        "Ma box ne se connecte plus depuis hier soir.",
        "Pourquoi ma facture est-elle si élevée ce mois-ci ?",
        "Merci beaucoup pour votre aide.",
    ],
    "de": [
        "Hallo, mein Glasfaseranschluss funktioniert noch nicht.",
        "Kann ich meinen Vertrag mit Rabatt verlängern?",
        "Die Rechnung ist falsch, bitte prüfen.",
        "Wann kommt der Techniker zu mir?",
        "Vielen Dank für die schnelle Hilfe.",
    ],
    "pt": [
        "Olá, a instalação da fibra foi remarcada?",
        "Quero renovar meu contrato com desconto.",
    ],
}


def customer_pool(size: int = 40, *, seed: int | None = None) -> list[Customer]:
    """A fixed crowd: about one in six hides their number behind a username."""
    rng = random.Random(seed)
    pool = []
    for n in range(size):
        language = rng.choice(list(_NAMES))
        prefix, country = _COUNTRY[language]
        number = f"{prefix}7{rng.randrange(10**8, 10**9)}"
        name = rng.choice(_NAMES[language])
        if n % 6 == 5:
            pool.append(
                Customer(name, language, None, f"{country}.{rng.randrange(10**15, 10**16)}")
            )
        else:
            pool.append(Customer(name, language, number))
    return pool


_SAMPLE_SHA256 = {
    media_id: base64.b64encode(hashlib.sha256(data).digest()).decode()
    for media_id, data in sample_bytes().items()
}
PHOTO_CAPTIONS = ["This is what the router shows", "The parcel arrived like this", ""]


def inbound_message(customer: Customer, *, rng: random.Random, at: int) -> dict[str, Any]:
    """One message from ``customer``: mostly text, sometimes a location, a photo, a voice
    note or a document."""
    message: dict[str, Any] = {"id": new_wamid(), "timestamp": str(at)}
    if customer.wa_id:
        message["from"] = customer.wa_id
    if customer.user_id:
        message["from_user_id"] = customer.user_id
    roll = rng.random()
    if roll < 0.05:
        message["type"] = "location"
        message["location"] = {
            "latitude": round(rng.uniform(40, 52), 6),
            "longitude": round(rng.uniform(-4, 13), 6),
            "name": "Home",
            "address": "Where the installation should be",
        }
    elif roll < 0.10:
        message["type"] = "image"
        message["image"] = {
            "mime_type": "image/jpeg",
            "sha256": _SAMPLE_SHA256[SAMPLE_PHOTO_ID],
            "id": SAMPLE_PHOTO_ID,
        }
        caption = rng.choice(PHOTO_CAPTIONS)
        if caption:
            message["image"]["caption"] = caption
    elif roll < 0.14:
        message["type"] = "audio"
        message["audio"] = {
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": _SAMPLE_SHA256[SAMPLE_VOICE_ID],
            "id": SAMPLE_VOICE_ID,
            "voice": True,
        }
    elif roll < 0.17:
        message["type"] = "document"
        message["document"] = {
            "caption": "My delivery note",
            "filename": "delivery-note.pdf",
            "mime_type": "application/pdf",
            "sha256": _SAMPLE_SHA256[SAMPLE_DOCUMENT_ID],
            "id": SAMPLE_DOCUMENT_ID,
        }
    else:
        message["type"] = "text"
        message["text"] = {"body": rng.choice(TEXTS[customer.language])}
    return message


def delivery(
    *,
    phone_number_id: str,
    display_phone_number: str,
    customer: Customer,
    messages: list[dict[str, Any]],
) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": customer.name}}
    if customer.wa_id:
        contact["wa_id"] = customer.wa_id
    if customer.user_id:
        contact["user_id"] = customer.user_id
    return webhook_delivery(
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        value={"contacts": [contact], "messages": messages},
    )


@dataclass
class Summary:
    deliveries: int = 0
    messages: int = 0
    customers: set[str] = field(default_factory=set)
    statuses: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def count(self, outcome: str) -> None:
        self.statuses[outcome] = self.statuses.get(outcome, 0) + 1

    def lines(self) -> list[str]:
        ordered = sorted(self.latencies)
        p50 = ordered[len(ordered) // 2] * 1000 if ordered else 0.0
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000 if ordered else 0.0
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return [
            f"deliveries: {self.deliveries}, messages: {self.messages}, "
            f"customers: {len(self.customers)}",
            f"responses: {outcomes or 'none'}",
            f"latency ms: p50 {p50:.1f}, p99 {p99:.1f}",
        ]


def simulate(
    *,
    webhook_url: str,
    app_secret: str,
    phone_number_id: str,
    display_phone_number: str,
    rate: float,
    duration: float,
    seed: int | None = None,
    on_delivery: Any = None,
    fake_cloud_url: str | None = None,
) -> Summary:
    """Post deliveries at ``rate`` per second for ``duration`` seconds, then stop. With
    ``fake_cloud_url``, customers also answer some of the templates sent to them."""
    rng = random.Random(seed)
    pool = customer_pool(seed=seed)
    replies = (
        TemplateReplies(
            fake_cloud_url=fake_cloud_url,
            webhook_url=webhook_url,
            app_secret=app_secret,
            phone_number_id=phone_number_id,
            display_phone_number=display_phone_number,
            pool=pool,
            rng=rng,
        )
        if fake_cloud_url
        else None
    )
    # A few regulars write most of the time: conversations continue, not only open.
    weights = [5 if n < 8 else 1 for n in range(len(pool))]
    summary = Summary()
    interval = 1.0 / rate if rate > 0 else duration
    start = time.monotonic()
    next_at = start
    with httpx.Client(timeout=10) as client:
        while True:
            now = time.monotonic()
            if now - start >= duration:
                break
            if now < next_at:
                if replies is not None:
                    replies.tick(client, summary)
                pause = min(next_at - now, duration - (now - start))
                time.sleep(min(pause, 1.0) if replies is not None else pause)
                continue
            next_at += interval
            customer = rng.choices(pool, weights)[0]
            at = int(time.time())
            count = 2 if rng.random() < 0.1 else 1
            messages = [inbound_message(customer, rng=rng, at=at) for _ in range(count)]
            body = json.dumps(
                delivery(
                    phone_number_id=phone_number_id,
                    display_phone_number=display_phone_number,
                    customer=customer,
                    messages=messages,
                )
            ).encode()
            sent_at = time.monotonic()
            try:
                response = client.post(
                    webhook_url,
                    content=body,
                    headers={"Content-Type": "application/json", HEADER: sign(body, app_secret)},
                )
                summary.count(str(response.status_code))
            except httpx.HTTPError as exc:
                summary.count(type(exc).__name__)
            summary.latencies.append(time.monotonic() - sent_at)
            summary.deliveries += 1
            summary.messages += count
            summary.customers.add(customer.wa_id or customer.user_id or "")
            if on_delivery is not None:
                on_delivery(summary)
    return summary


# --- customers answering templates ---------------------------------------------------------

TEMPLATE_REPLIES = {
    "en": [
        "Yes, that works for me, thanks.",
        "Thanks for getting back to me!",
        "Can we make it later?",
    ],
    "es": ["Sí, perfecto, gracias.", "Gracias por escribirme."],
    "fr": ["Oui, ça me va, merci.", "Merci pour votre message."],
    "de": ["Ja, das passt, danke.", "Danke für die Nachricht."],
    "pt": ["Sim, pode ser, obrigado.", "Obrigado pelo retorno."],
}
# How often the fake Cloud API is asked for new template sends, and how many customers answer.
TEMPLATE_POLL_SECONDS = 2.0
TEMPLATE_REPLY_SHARE = 0.6


@dataclass
class TemplateReplies:
    """Some customers answer the templates sent to them, a few seconds later, quoting the
    template (``context.id``) as WhatsApp does. The sends are read from the fake Cloud
    API (``GET /_fake/template_sends``)."""

    fake_cloud_url: str
    webhook_url: str
    app_secret: str
    phone_number_id: str
    display_phone_number: str
    pool: list[Customer]
    rng: random.Random
    seen: int = 0
    polled_at: float = 0.0
    due: list[tuple[float, Customer, str]] = field(default_factory=list)

    def tick(self, client: httpx.Client, summary: Summary) -> None:
        now = time.monotonic()
        if now - self.polled_at >= TEMPLATE_POLL_SECONDS:
            self.polled_at = now
            self._poll(client, now)
        for entry in [d for d in self.due if d[0] <= now]:
            self.due.remove(entry)
            self._reply(client, summary, entry[1], entry[2])

    def _poll(self, client: httpx.Client, now: float) -> None:
        try:
            sends = client.get(
                f"{self.fake_cloud_url}/_fake/template_sends", params={"after": self.seen}
            ).json()
        except (httpx.HTTPError, ValueError):
            return
        by_number = {c.wa_id: c for c in self.pool if c.wa_id}
        for send in sends if isinstance(sends, list) else []:
            self.seen += 1
            to = send.get("to")
            if not to or self.rng.random() > TEMPLATE_REPLY_SHARE:
                continue
            customer = by_number.get(to) or Customer("", "en", to)
            self.due.append((now + self.rng.uniform(3, 10), customer, send["wamid"]))

    def _reply(
        self, client: httpx.Client, summary: Summary, customer: Customer, wamid: str
    ) -> None:
        message: dict[str, Any] = {
            "id": new_wamid(),
            "timestamp": str(int(time.time())),
            "from": customer.wa_id,
            "type": "text",
            "text": {
                "body": self.rng.choice(
                    TEMPLATE_REPLIES.get(customer.language, TEMPLATE_REPLIES["en"])
                )
            },
            "context": {"from": self.display_phone_number, "id": wamid},
        }
        body = json.dumps(
            delivery(
                phone_number_id=self.phone_number_id,
                display_phone_number=self.display_phone_number,
                customer=customer,
                messages=[message],
            )
        ).encode()
        try:
            response = client.post(
                self.webhook_url,
                content=body,
                headers={"Content-Type": "application/json", HEADER: sign(body, self.app_secret)},
            )
            summary.count(str(response.status_code))
        except httpx.HTTPError as exc:
            summary.count(type(exc).__name__)
        summary.deliveries += 1
        summary.messages += 1
