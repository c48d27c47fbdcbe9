"""A customer who writes a lot cannot break the agent's dock: a thread far larger than a
websocket frame opens at its newest messages, and scrolling up brings the older ones
back to the first."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from conversations import messaging
from conversations.models import Message
from tests.dock.test_browser import chat_button, open_dock, post_webhook, shift, wait_for
from tests.factories import ContactFactory, ConversationFactory
from tests.whatsapp import payloads as wa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

__all__ = ["shift"]

FLOOD_WA_ID = "447700900555"


def long_text(n: int) -> str:
    label = f"Message {n:02d} "
    return label + "я" * (messaging.MAX_TEXT_LENGTH - len(label))


def test_a_thread_of_long_messages_opens_at_the_newest_and_scrolls_back_to_the_first(
    page, shift, daphne_server
):
    channel = shift["channel"]
    contact = ContactFactory(
        organization=channel.organization, name="Fiona Flood", wa_id=FLOOD_WA_ID
    )
    chat = ConversationFactory(channel=channel, contact=contact, agent=shift["ana"])
    sent_at = int(time.time()) - 3600
    # One signed delivery of 50 texts of 4,096 "я": 1.2 MB of JSON.
    post_webhook(
        daphne_server,
        channel,
        wa.delivery(
            wa.value(
                channel,
                contacts=[wa.contact(FLOOD_WA_ID, "Fiona Flood")],
                messages=[
                    wa.message(
                        "text",
                        wa.text(long_text(n)),
                        sender=FLOOD_WA_ID,
                        timestamp=str(sent_at + n),
                    )
                    for n in range(1, 51)
                ],
            )
        ),
    )
    wait_for(lambda: Message.objects.filter(conversation=chat).count() == 50)

    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    open_dock(page)
    chat_button(page, "Fiona Flood").click()

    thread = page.locator("#messages")
    expect(thread.locator("li.msg").last).to_contain_text("Message 50 яяя")
    expect(thread.locator("li.msg").last).to_be_in_viewport()
    first = thread.locator("li.msg", has_text="Message 01 ")
    expect(first).to_have_count(0)

    # The agent scrolls up, again and again, until the first message is there.
    deadline = time.monotonic() + 30
    while not first.count() and time.monotonic() < deadline:
        thread.evaluate("list => { list.scrollTop = 0; }")
        page.wait_for_timeout(200)
    thread.evaluate("list => { list.scrollTop = 0; }")
    expect(first).to_be_in_viewport()
    expect(thread.locator("li.msg")).to_have_count(50)
    texts = thread.locator("li.msg p.text").all_inner_texts()
    assert [t[:11] for t in texts] == [f"Message {n:02d} " for n in range(1, 51)]

    expect(page.locator("#connection")).to_have_text("Live")
    assert len(sockets) == 1  # the dock never lost its connection
