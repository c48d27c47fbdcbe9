"""The demo's customers answer some templates, quoting them as WhatsApp does."""

from __future__ import annotations

import json
import random

import httpx

from channels_whatsapp.signature import HEADER, sign
from channels_whatsapp.simulator import Summary, TemplateReplies, customer_pool


def test_customers_answer_templates_sent_to_them_quoting_the_template(fake_cloud):
    pool = customer_pool(seed=3)
    customer = next(c for c in pool if c.wa_id)
    status, answer = fake_cloud.handle_send(
        "1055501",
        "Bearer token",
        {
            "messaging_product": "whatsapp",
            "to": customer.wa_id,
            "type": "template",
            "template": {
                "name": "follow_up",
                "language": {"code": "en"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Jo"}]}],
            },
        },
    )
    assert status == 200
    wamid = answer["messages"][0]["id"]
    posted: list[httpx.Request] = []

    def webhook(request: httpx.Request) -> httpx.Response:
        if request.url.host == "server.test":
            posted.append(request)
            return httpx.Response(200)
        return httpx.Response(200, json=fake_cloud.template_sends(int(request.url.params["after"])))

    replies = TemplateReplies(
        fake_cloud_url="http://fake.test",
        webhook_url="http://server.test/webhooks/whatsapp/key/",
        app_secret="secret",
        phone_number_id="1055501",
        display_phone_number="15550100200",
        pool=pool,
        rng=random.Random(1),
    )
    summary = Summary()
    with httpx.Client(transport=httpx.MockTransport(webhook)) as client:
        replies.tick(client, summary)
        assert [(c, w) for _, c, w in replies.due] == [(customer, wamid)]
        replies.due = [(0.0, c, w) for _, c, w in replies.due]  # a few seconds later
        replies.tick(client, summary)
        replies.tick(client, summary)  # nothing twice
    (request,) = posted
    assert request.headers[HEADER] == sign(request.content, "secret")
    message = json.loads(request.content)["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["from"] == customer.wa_id
    assert message["context"]["id"] == wamid
    assert message["text"]["body"]
