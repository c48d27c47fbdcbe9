"""What a customer sends may carry URLs of their choosing (a media ``url`` in a webhook
delivery): a medium's url is never kept (its file is fetched by id and served by our own
API), and the dock makes links only of https: and of our own paths. A javascript: or
data: URL rendered as a link would run in the agent's session with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations.models import Message
from tests.dock.test_browser import chat_button, open_dock, post_webhook, shift, wait_for
from tests.whatsapp import payloads as wa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["shift"]

MARIA = "447700900101"

NOT_LINKS = {
    "script URL": "javascript:alert(document.cookie)",
    "script in capitals": "  JaVaScRiPt:alert(document.domain)",
    "data URL": "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "plain http URL": "http://files.attacker.example/video.mp4",
    "protocol-relative URL": "//attacker.example/invoice.pdf",
}


def media(kind: str, caption: str, url: str) -> dict:
    return wa.message(
        kind,
        {
            "id": f"media-{abs(hash(caption))}",
            "mime_type": "application/pdf",
            "caption": caption,
            "url": url,
        },
        sender=MARIA,
    )


def test_no_url_a_customer_sends_becomes_a_link(page, shift, daphne_server):
    channel = shift["channel"]
    maria = shift["chats"]["Maria Lopez"]
    messages = [media("document", caption, url) for caption, url in NOT_LINKS.items()]
    messages += [
        media("image", "https file", "https://files.example.com/photo.jpg"),
        media("document", "our own file", "/api/v1/media/42/"),
        wa.message("location", {"latitude": 51.5014, "longitude": -0.1419}, sender=MARIA),
        wa.message("location", {"latitude": "1&mlon=javascript:", "longitude": "0"}, sender=MARIA),
    ]
    post_webhook(
        daphne_server,
        channel,
        wa.delivery(
            wa.value(channel, contacts=[wa.contact(MARIA, "Maria Lopez")], messages=messages)
        ),
    )
    wait_for(lambda: Message.objects.filter(conversation=maria).count() == 1 + len(messages))

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_dock(page)
    chat_button(page, "Maria Lopez").click()
    thread = page.locator("#messages")
    expect(thread.locator("li.msg")).to_have_count(1 + len(messages))

    for caption, url in NOT_LINKS.items():
        bubble = thread.locator("li.msg", has_text=caption)
        expect(bubble.locator("a")).to_have_count(0)
        expect(bubble).not_to_contain_text(url.strip())
    hrefs = thread.locator("a").evaluate_all("links => links.map((a) => a.href)")
    # The media named no file the Cloud API has: none was kept, so none links anywhere.
    assert hrefs == [
        "https://www.openstreetmap.org/?mlat=51.5014&mlon=-0.1419#map=17/51.5014/-0.1419",
    ]
    assert dialogs == []
