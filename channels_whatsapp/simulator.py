"""Made-up customers writing to a WhatsApp number, for the demo's live traffic.

Each delivery is what Meta would post: one customer's message (now and then two, batched)
with their profile, signed with the channel's app secret. Some customers come back and
keep their conversation going; some hide their number behind a username and are known
only by a business-scoped user id; they write in several languages.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from channels_whatsapp.fake_cloud import new_wamid, webhook_delivery
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


def inbound_message(customer: Customer, *, rng: random.Random, at: int) -> dict[str, Any]:
    """One message from ``customer``: mostly text, sometimes a location or a photo."""
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
    elif roll < 0.08:
        message["type"] = "image"
        message["image"] = {
            "caption": "This is what the router shows",
            "mime_type": "image/jpeg",
            "sha256": "c0ffee" * 10 + "beef",
            "id": str(rng.randrange(10**15, 10**16)),
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
) -> Summary:
    """Post deliveries at ``rate`` per second for ``duration`` seconds, then stop."""
    rng = random.Random(seed)
    pool = customer_pool(seed=seed)
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
                time.sleep(min(next_at - now, duration - (now - start)))
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
