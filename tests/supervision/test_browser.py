"""The board in a real browser (Debian's Chromium through Playwright) against daphne with
the Redis channel layer: a supervisor watches loads change and moves a chat between
two agents' docks."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from channels_whatsapp.signature import HEADER, sign
from conversations.models import Conversation, Role
from presence.models import PresenceStatus
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


@pytest.fixture
def floor():
    """Sam supervises; Ana has one chat (Maria's), Ben has none."""
    sam = MembershipFactory(
        role=Role.SUPERVISOR,
        user__name="Sam Supervisor",
        user__email="sam@board.test",
        max_open=0,
        presence=PresenceStatus.OFFLINE,
    )
    organization = sam.organization
    channel = ChannelFactory(organization=organization, project__name="Spring Renewals")
    ana = MembershipFactory(
        organization=organization,
        user__name="Ana Agent",
        user__email="ana@board.test",
        projects=[channel.project],
    )
    ben = MembershipFactory(
        organization=organization,
        user__name="Ben Agent",
        user__email="ben@board.test",
        projects=[channel.project],
    )
    maria = ConversationFactory(
        channel=channel,
        agent=ana,
        contact=ContactFactory(organization=organization, name="Maria Lopez"),
    )
    MessageFactory(conversation=maria, text="Is my renewal discount still valid?")
    return {"sam": sam, "ana": ana, "ben": ben, "channel": channel, "maria": maria}


def load_of(board, name: str):
    return board.get_by_label(f"Load of {name}")


def open_board(board) -> None:
    sign_in(board, "sam@board.test")
    expect(board).to_have_url(re.compile(r"/dock/$"))
    board.goto("/supervision/")
    expect(board.locator("#connection")).to_have_text("Live")


def open_dock(browser, daphne_server, email: str):
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=daphne_server.url
    )
    context.set_default_timeout(10_000)
    dock = context.new_page()
    sign_in(dock, email)
    expect(dock).to_have_url(re.compile(r"/dock/$"))
    expect(dock.locator("#connection")).to_have_text("Live")
    return context, dock


def open_chats(dock):
    return dock.get_by_role("navigation", name="Open chats")


def customer_writes(daphne_server, channel, *, name: str, text: str) -> None:
    """A new customer's WhatsApp message reaches the server, which opens and routes it."""
    body = json.dumps(
        wa.delivery(
            wa.value(
                channel,
                contacts=[wa.contact("447700900555", name)],
                messages=[wa.message("text", wa.text(text), sender="447700900555")],
            )
        )
    ).encode()
    response = httpx.post(
        f"{daphne_server.url}/webhooks/whatsapp/{channel.key}/",
        content=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, channel.app_secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_an_agents_load_changes_live_when_a_chat_is_routed_to_them(page, daphne_server, floor):
    open_board(page)
    expect(load_of(page, "Ana Agent")).to_have_text("1 / 3")
    expect(load_of(page, "Ben Agent")).to_have_text("0 / 3")

    customer_writes(daphne_server, floor["channel"], name="Tom Baker", text="My line drops")

    # Ben was the least loaded: the chat is his, and the board shows it without a reload.
    expect(load_of(page, "Ben Agent")).to_have_text("1 / 3")
    expect(page.locator("#open")).to_contain_text("Tom Baker")
    tom = Conversation.objects.get(contact__name="Tom Baker")
    assert tom.agent == floor["ben"]


def test_a_supervisor_reassigns_a_chat_from_one_agents_dock_to_the_others(
    page, browser, daphne_server, floor
):
    ana_context, ana_dock = open_dock(browser, daphne_server, "ana@board.test")
    ben_context, ben_dock = open_dock(browser, daphne_server, "ben@board.test")
    try:
        expect(
            open_chats(ana_dock).get_by_role("button", name=re.compile("Maria Lopez"))
        ).to_be_visible()
        expect(open_chats(ben_dock)).not_to_contain_text("Maria Lopez")

        open_board(page)
        page.locator("#open").get_by_role("button", name="Maria Lopez").click()
        panel = page.get_by_role("complementary", name="Conversation")
        expect(panel).to_contain_text("Is my renewal discount still valid?")
        panel.get_by_label("Reassign to").select_option(value=str(floor["ben"].pk))
        panel.get_by_role("button", name="Reassign").click()

        expect(
            open_chats(ben_dock).get_by_role("button", name=re.compile("Maria Lopez"))
        ).to_be_visible()
        expect(open_chats(ana_dock)).not_to_contain_text("Maria Lopez")
        expect(load_of(page, "Ana Agent")).to_have_text("0 / 3")
        expect(load_of(page, "Ben Agent")).to_have_text("1 / 3")
        # The history on the board names who moved it.
        expect(panel).to_contain_text("by Sam Supervisor")
    finally:
        ana_context.close()
        ben_context.close()
