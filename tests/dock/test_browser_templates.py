"""The dock in Chromium, towards the customer: outside the 24-hour window the composer
offers the number's templates and sends a filled one; opening a chat shows the customer
their message read, once; their reaction shows under the message it reacts to."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels_whatsapp.templates import templates_sync
from conversations.models import Direction, MessageStatus
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.live_server import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ana():
    return MembershipFactory(user__name="Ana Agent", user__email="ana@templates.test", max_open=5)


@pytest.fixture
def channel(ana, fake_cloud_api):
    channel = ChannelFactory(organization=ana.organization, business_account_id="4455667788")
    ana.projects.set([channel.project])
    templates_sync(channel=channel, graph_url=fake_cloud_api.graph_url)
    return channel


def chat(channel, agent, name: str, *, wrote_ago: timedelta, unread: int = 0, wamid: str):
    contact = ContactFactory(organization=channel.organization, name=name)
    conversation = ConversationFactory(
        channel=channel,
        contact=contact,
        agent=agent,
        unread_count=unread,
        last_inbound_at=timezone.now() - wrote_ago,
    )
    MessageFactory(
        conversation=conversation,
        wamid=wamid,
        text="Is my installation still on?",
        sent_at=timezone.now() - wrote_ago,
    )
    return conversation


def open_chat(page, name: str) -> None:
    sign_in(page, "ana@templates.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")
    page.get_by_role("navigation", name="Open chats").get_by_role("button", name=name).click()


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")


def test_outside_the_window_the_composer_offers_templates_and_sends_a_filled_one(
    page, ana, channel, fake_cloud_api
):
    chat(channel, ana, "Grace Kim", wrote_ago=timedelta(days=2), wamid="wamid.grace")
    open_chat(page, "Grace Kim")

    expect(page.locator("#window-note")).to_contain_text("more than 24 hours ago")
    expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
    picker = page.get_by_role("group", name="Send a template")
    choice = picker.get_by_label("Template")
    expect(choice.locator("option")).to_have_count(8)  # a prompt and the seven approved
    expect(choice.locator("option", has_text="spring promo")).to_have_count(0)
    choice.select_option(label="install update · EN")

    picker.get_by_label("Parameter {{1}}").fill("Grace")
    send = picker.get_by_role("button", name="Send template")
    expect(send).to_be_disabled()
    picker.get_by_label("Parameter {{2}}").fill("Tuesday 10:00")
    expect(picker.get_by_label("Preview")).to_have_text(
        "Hi Grace, your fibre installation is booked for Tuesday 10:00. "
        "Reply here if that slot does not suit you."
    )
    send.click()

    sent = wait_for(lambda: fake_cloud_api.sent)
    template = sent[0]["body"]["template"]
    assert (template["name"], template["language"]) == ("install_update", {"code": "en"})
    assert template["components"][0]["parameters"] == [
        {"type": "text", "text": "Grace"},
        {"type": "text", "text": "Tuesday 10:00"},
    ]
    thread = page.get_by_role("list", name="Messages")
    expect(thread).to_contain_text("Hi Grace, your fibre installation is booked for Tuesday 10:00.")
    expect(thread.locator(".msg.out .tick")).to_have_attribute(
        "aria-label", re.compile("Sent|Delivered|Read")
    )


def test_inside_the_window_the_composer_is_free_text(page, ana, channel):
    chat(channel, ana, "Noah Patel", wrote_ago=timedelta(hours=1), wamid="wamid.noah")
    open_chat(page, "Noah Patel")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    expect(page.get_by_role("group", name="Send a template")).to_be_hidden()


def test_opening_a_chat_sends_one_read_receipt_and_shows_reactions(
    page, ana, channel, fake_cloud_api
):
    conversation = chat(
        channel, ana, "Mia Becker", wrote_ago=timedelta(minutes=3), unread=1, wamid="wamid.mia"
    )
    MessageFactory(
        conversation=conversation,
        direction=Direction.OUT,
        status=MessageStatus.READ,
        text="Yes, Thursday at 9.",
        reaction="\U0001f44d",
        sent_at=timezone.now() - timedelta(minutes=1),
    )
    open_chat(page, "Mia Becker")

    reads = wait_for(lambda: fake_cloud_api.reads)
    assert reads == [
        {"phone_number_id": channel.phone_number_id, "message_id": "wamid.mia", "typing": False}
    ]
    expect(page.get_by_role("img", name="Customer reacted \U0001f44d")).to_be_visible()

    page.reload()  # the chat opened again: its message is read already
    expect(page.locator("#connection")).to_have_text("Live")
    page.get_by_role("navigation", name="Open chats").get_by_role(
        "button", name="Mia Becker"
    ).click()
    page.get_by_role("textbox", name="Message").fill("Let me check")
    wait_for(lambda: any(r["typing"] for r in fake_cloud_api.reads))
    assert [r for r in fake_cloud_api.reads if not r["typing"]] == reads
