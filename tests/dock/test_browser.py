"""The dock in a real browser (Debian's Chromium through Playwright) against daphne with
the Redis channel layer: what an agent sees and does during a shift."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from channels_whatsapp.signature import HEADER, sign
from conversations.models import Conversation, ConversationStatus, Message
from presence.models import AgentPresence, PresenceStatus
from tests.dock.conftest import store_customer_text
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.live_server import sign_in
from tests.whatsapp import payloads as wa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

METADATA = {"campaign": "Renewal wave, April", "offer": "12 months at 20% off"}


@pytest.fixture
def shift():
    """Ana works three chats of the Spring Renewals campaign; Ben has room."""
    ana = MembershipFactory(user__name="Ana Agent", user__email="ana@dock.test", max_open=5)
    ben = MembershipFactory(
        organization=ana.organization,
        user__name="Ben Agent",
        user__email="ben@dock.test",
        max_open=3,
        skills=["retention"],
    )
    channel = ChannelFactory(
        organization=ana.organization,
        project__name="Spring Renewals",
        project__metadata=METADATA,
        display_phone_number="+1 555 010 0200",
    )
    for member in (ana, ben):
        member.projects.set([channel.project])
    chats = {}
    for name, wa_id, text in (
        ("Maria Lopez", "447700900101", "Is my renewal discount still valid?"),
        ("Tom Baker", "447700900102", "My router keeps dropping the line"),
        ("Priya Shah", "447700900103", "Can I move my contract to my partner?"),
    ):
        contact = ContactFactory(organization=ana.organization, name=name, wa_id=wa_id)
        chat = ConversationFactory(channel=channel, contact=contact, agent=ana, unread_count=1)
        MessageFactory(conversation=chat, text=text)
        chats[name] = chat
    return {"ana": ana, "ben": ben, "channel": channel, "chats": chats}


def open_dock(page, email: str = "ana@dock.test") -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")


def chat_button(page, name: str):
    return page.get_by_role("navigation", name="Open chats").get_by_role("button", name=name)


def post_webhook(daphne_server, channel, payload: dict) -> None:
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{daphne_server.url}/webhooks/whatsapp/{channel.key}/",
        content=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, channel.app_secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def customer_writes(daphne_server, channel, *, wa_id: str, name: str, text: str) -> None:
    post_webhook(
        daphne_server,
        channel,
        wa.delivery(
            wa.value(
                channel,
                contacts=[wa.contact(wa_id, name)],
                messages=[wa.message("text", wa.text(text), sender=wa_id)],
            )
        ),
    )


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the condition did not come true in time")


def test_an_agent_signs_in_and_sees_their_chats_with_context(page, shift):
    open_dock(page)

    for name in ("Maria Lopez", "Tom Baker", "Priya Shah"):
        expect(chat_button(page, name)).to_be_visible()
    expect(page.get_by_label("Capacity")).to_have_text("3 / 5 open")
    expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    chat_button(page, "Tom Baker").click()
    thread = page.get_by_role("main", name="Conversation")
    expect(thread.get_by_role("heading", name="Tom Baker")).to_be_visible()
    expect(thread.get_by_text("My router keeps dropping the line")).to_be_visible()
    context = page.get_by_role("complementary", name="Context")
    expect(context.get_by_text("Tom Baker")).to_be_visible()
    expect(context.get_by_text("+447700900102")).to_be_visible()
    expect(context.get_by_text("Spring Renewals")).to_be_visible()
    expect(context.get_by_text("12 months at 20% off")).to_be_visible()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_switching_chats_keeps_the_page_and_a_draft_per_chat(page, shift):
    open_dock(page)
    page.evaluate("window.stillTheSamePage = true")
    composer = page.get_by_role("textbox", name="Message")
    thread_name = page.get_by_role("main", name="Conversation").get_by_role("heading")

    chat_button(page, "Maria Lopez").click()
    expect(thread_name).to_have_text("Maria Lopez")
    composer.fill("Let me check your discount")

    chat_button(page, "Tom Baker").click()
    expect(thread_name).to_have_text("Tom Baker")
    expect(composer).to_have_value("")

    page.keyboard.press("Alt+ArrowDown")
    expect(thread_name).to_have_text("Priya Shah")
    page.keyboard.press("Alt+ArrowUp")
    expect(thread_name).to_have_text("Tom Baker")

    page.keyboard.press("Control+k")
    page.get_by_role("combobox", name="Find a chat").fill("mar")
    page.keyboard.press("Enter")
    expect(thread_name).to_have_text("Maria Lopez")
    expect(composer).to_have_value("Let me check your discount")

    assert page.evaluate("window.stillTheSamePage") is True


def test_a_reply_reaches_the_customer_and_its_ticks_follow_the_status(
    page, shift, fake_cloud_api, daphne_server
):
    channel = shift["channel"]
    fake_cloud_api.webhook_url = f"{daphne_server.url}/webhooks/whatsapp/{channel.key}/"
    fake_cloud_api.app_secret = channel.app_secret
    open_dock(page)
    chat_button(page, "Maria Lopez").click()

    composer = page.get_by_role("textbox", name="Message")
    composer.fill("Yes, it is valid")
    composer.press("Shift+Enter")
    composer.type("until the end of May.")
    composer.press("Enter")

    sent = wait_for(lambda: fake_cloud_api.sent)
    assert sent[0]["body"]["to"] == "447700900101"
    assert sent[0]["body"]["text"]["body"] == "Yes, it is valid\nuntil the end of May."
    bubble = page.locator(".msg.out").last
    expect(bubble).to_contain_text("until the end of May.")
    expect(bubble.get_by_label("Read")).to_be_visible()
    expect(composer).to_have_value("")


def test_outside_the_service_window_the_composer_offers_templates_instead_of_text(page, shift):
    """The refusal itself (the send command's error naming the window) is in
    ``test_commands``; the templates' own path in ``test_browser_templates``."""
    chat = shift["chats"]["Priya Shah"]
    chat.last_inbound_at = timezone.now() - timedelta(hours=26)
    chat.save(update_fields=["last_inbound_at"])
    open_dock(page)
    chat_button(page, "Priya Shah").click()

    expect(page.locator("#window-note")).to_contain_text("24 hours")
    expect(page.get_by_role("textbox", name="Message")).to_be_hidden()
    expect(page.get_by_role("group", name="Send a template")).to_be_visible()
    chat_button(page, "Tom Baker").click()
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
    assert not Message.objects.filter(conversation=chat, direction="out").exists()


def test_a_customers_message_and_a_newly_routed_chat_arrive_live(page, shift, daphne_server):
    channel = shift["channel"]
    AgentPresence.objects.filter(membership=shift["ben"]).update(status=PresenceStatus.OFFLINE)
    open_dock(page)
    chat_button(page, "Maria Lopez").click()
    page.evaluate("window.stillTheSamePage = true")

    customer_writes(
        daphne_server, channel, wa_id="447700900101", name="Maria Lopez", text="Hello? Anyone?"
    )
    expect(page.locator("#messages")).to_contain_text("Hello? Anyone?")

    customer_writes(
        daphne_server, channel, wa_id="447700900102", name="Tom Baker", text="Still dropping"
    )
    tom = chat_button(page, "Tom Baker")
    expect(tom).to_contain_text("Still dropping")
    expect(tom).to_contain_text("2")  # his unread count
    expect(tom).to_have_class(re.compile(r"\bfresh\b"))
    expect(page).to_have_title(re.compile(r"^\(\d+\) "))

    customer_writes(
        daphne_server, channel, wa_id="447700900199", name="Olga Novak", text="New here, hi!"
    )
    expect(chat_button(page, "Olga Novak")).to_contain_text("New here, hi!")
    expect(page.get_by_label("Capacity")).to_have_text("4 / 5 open")
    assert page.evaluate("window.stillTheSamePage") is True


def test_presence_set_in_the_dock_reaches_the_router(page, shift):
    ana = shift["ana"]
    ben = shift["ben"]
    AgentPresence.objects.filter(membership=ben).update(status=PresenceStatus.OFFLINE)
    open_dock(page)

    page.get_by_role("button", name="Busy").click()
    expect(page.get_by_role("button", name="Busy")).to_have_attribute("aria-pressed", "true")
    wait_for(lambda: AgentPresence.objects.get(membership=ana).status == PresenceStatus.BUSY)

    waiting = ConversationFactory(
        channel=shift["channel"],
        contact=ContactFactory(organization=ana.organization, name="Queued Quinn"),
    )
    assert waiting.status == ConversationStatus.QUEUED

    page.get_by_role("button", name="Available").click()

    expect(chat_button(page, "Queued Quinn")).to_be_visible()
    waiting.refresh_from_db()
    assert waiting.agent_id == ana.pk


def test_an_agent_closes_a_chat_with_an_outcome(page, shift):
    open_dock(page)
    chat_button(page, "Tom Baker").click()

    page.get_by_role("button", name="Close", exact=True).click()
    dialog = page.get_by_role("dialog", name="Close this chat")
    dialog.get_by_label("Outcome").fill("Technician booked")
    dialog.get_by_role("button", name="Close chat").click()

    expect(chat_button(page, "Tom Baker")).to_have_count(0)
    expect(page.get_by_label("Capacity")).to_have_text("2 / 5 open")
    tom = Conversation.objects.get(pk=shift["chats"]["Tom Baker"].pk)
    assert (tom.status, tom.outcome) == (ConversationStatus.CLOSED, "Technician booked")


def test_a_chat_transferred_to_a_colleague_moves_between_their_docks(browser, page, shift):
    open_dock(page)
    bens = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=page.url)
    ben_page = bens.new_page()
    try:
        open_dock(ben_page, "ben@dock.test")
        expect(ben_page.get_by_label("Capacity")).to_have_text("0 / 3 open")

        chat_button(page, "Priya Shah").click()
        page.get_by_role("button", name="Transfer").click()
        dialog = page.get_by_role("dialog", name="Transfer this chat")
        expect(dialog.get_by_label("Colleague", exact=True)).to_contain_text("Ben Agent")
        dialog.get_by_label("Note for whoever takes it").fill("Wants to move the contract")
        dialog.get_by_role("button", name="Transfer").click()

        expect(chat_button(page, "Priya Shah")).to_have_count(0)
        expect(chat_button(ben_page, "Priya Shah")).to_be_visible()
        chat_button(ben_page, "Priya Shah").click()
        expect(ben_page.locator("#messages")).to_contain_text("Wants to move the contract")
    finally:
        bens.close()


def test_a_chat_sent_back_to_the_queue_asks_for_a_skill(page, shift):
    AgentPresence.objects.filter(membership=shift["ben"]).update(status=PresenceStatus.OFFLINE)
    open_dock(page)
    chat_button(page, "Maria Lopez").click()

    page.get_by_role("button", name="Transfer").click()
    dialog = page.get_by_role("dialog", name="Transfer this chat")
    dialog.get_by_label("Back to the queue").check()
    dialog.get_by_label("Skill needed").select_option("retention")
    dialog.get_by_role("button", name="Transfer").click()

    expect(chat_button(page, "Maria Lopez")).to_have_count(0)
    maria = Conversation.objects.get(pk=shift["chats"]["Maria Lopez"].pk)
    assert maria.status == ConversationStatus.QUEUED
    assert maria.required_skills == ["retention"]


def test_after_the_connection_drops_nothing_is_missed(page, shift, daphne_server):
    channel = shift["channel"]
    AgentPresence.objects.filter(membership=shift["ben"]).update(status=PresenceStatus.OFFLINE)
    open_dock(page)
    chat_button(page, "Maria Lopez").click()
    expect(page.locator("#messages")).to_contain_text("Is my renewal discount still valid?")
    page.evaluate("window.stillTheSamePage = true")

    daphne_server.stop()
    expect(page.locator("#connection")).to_have_text("Reconnecting…")
    # While the dock is away: a message in the open thread, one in another chat, a new chat.
    for wa_id, name, text in (
        ("447700900101", "Maria Lopez", "Are you there?"),
        ("447700900103", "Priya Shah", "Any news?"),
        ("447700900177", "Lena Fischer", "Hi, I need a new SIM"),
    ):
        store_customer_text(channel, wa_id, name, text)
    daphne_server.start()

    expect(page.locator("#connection")).to_have_text("Live", timeout=20_000)
    expect(page.locator("#messages")).to_contain_text("Are you there?")
    expect(chat_button(page, "Priya Shah")).to_contain_text("Any news?")
    expect(chat_button(page, "Lena Fischer")).to_be_visible()
    expect(page.locator("#messages .msg", has_text="Are you there?")).to_have_count(1)
    assert page.evaluate("window.stillTheSamePage") is True


def test_the_dock_works_on_a_narrow_window(browser, daphne_server, shift):
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, base_url=daphne_server.url
    )
    phone = context.new_page()
    try:
        open_dock(phone)
        expect(chat_button(phone, "Tom Baker")).to_be_visible()
        expect(phone.get_by_role("main", name="Conversation")).to_be_hidden()

        chat_button(phone, "Tom Baker").click()
        expect(phone.get_by_role("textbox", name="Message")).to_be_visible()
        expect(phone.get_by_role("navigation", name="Open chats")).to_be_hidden()

        phone.get_by_role("button", name="Details").click()
        expect(phone.get_by_role("complementary", name="Context")).to_contain_text(
            "Renewal wave, April"
        )
        phone.get_by_role("button", name="Hide details").click()
        phone.get_by_role("button", name="Back to chats").click()
        expect(chat_button(phone, "Priya Shah")).to_be_visible()
    finally:
        context.close()


def test_two_tabs_of_one_agent_stay_in_step(page, shift):
    open_dock(page)
    other_tab = page.context.new_page()
    other_tab.goto("/dock/")  # the same session: no second sign-in
    expect(other_tab.locator("#connection")).to_have_text("Live")

    chat_button(page, "Maria Lopez").click()
    chat_button(other_tab, "Maria Lopez").click()
    page.get_by_role("textbox", name="Message").fill("Sent from the first tab")
    page.get_by_role("button", name="Send").click()
    expect(other_tab.locator("#messages")).to_contain_text("Sent from the first tab")
    expect(other_tab.locator(".msg", has_text="Sent from the first tab")).to_have_count(1)

    page.get_by_role("button", name="Close", exact=True).click()
    page.get_by_role("dialog", name="Close this chat").get_by_label("Outcome").fill("Resolved")
    page.get_by_role("button", name="Close chat").click()
    expect(chat_button(other_tab, "Maria Lopez")).to_have_count(0)
    expect(other_tab.get_by_label("Capacity")).to_have_text("2 / 5 open")
