"""Offers in the dock, in a real browser: a chat offered to the agent waits above their
list with Accept, Decline and its seconds running down; and the chat's language can be
corrected in the context panel."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations.models import ConversationStatus, LanguageSource
from routing.offers import offers_expire_due
from routing.router import route_queue
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
def desk():
    """Ana takes chats of a project that offers them for ``offer_timeout_seconds``."""
    ana = MembershipFactory(
        user__name="Ana Agent", user__email="ana@offers.test", max_open=3, languages=["en", "es"]
    )
    channel = ChannelFactory(organization=ana.organization, project__name="Spring Renewals")
    channel.project.offer_timeout_seconds = 30
    channel.project.save(update_fields=["offer_timeout_seconds"])
    ana.projects.set([channel.project])
    return {"ana": ana, "channel": channel, "org": ana.organization}


def queued_chat(desk, name: str, wa_id: str):
    contact = ContactFactory(organization=desk["org"], name=name, wa_id=wa_id)
    chat = ConversationFactory(channel=desk["channel"], contact=contact)
    MessageFactory(conversation=chat, text="Hello, is anyone there?")
    return chat


def open_dock(page) -> None:
    sign_in(page, "ana@offers.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")


def offers(page):
    return page.get_by_role("region", name="Chats offered to you")


def test_an_offered_chat_is_accepted_in_the_dock_and_becomes_the_agents(page, desk):
    open_dock(page)
    chat = queued_chat(desk, "Maria Lopez", "447700900301")
    route_queue(organization_id=desk["org"].pk)

    offer = offers(page).get_by_role("listitem", name="Chat offered: Maria Lopez")
    expect(offer).to_be_visible()
    expect(offer.get_by_role("timer")).to_have_text(re.compile(r"^(30|29|28|27) s$"))
    expect(page.get_by_label("Capacity")).to_have_text("1 / 3 open")
    offer.get_by_role("button", name="Accept Maria Lopez").click()

    expect(offers(page)).to_be_hidden()
    chats = page.get_by_role("navigation", name="Open chats")
    expect(chats.get_by_role("button", name=re.compile("Maria Lopez"))).to_be_visible()
    chat.refresh_from_db()
    assert (chat.status, chat.agent_id) == ("assigned", desk["ana"].pk)


def test_a_declined_chat_leaves_the_dock_and_is_not_offered_again_to_the_agent(page, desk):
    open_dock(page)
    chat = queued_chat(desk, "Tom Baker", "447700900302")
    route_queue(organization_id=desk["org"].pk)

    offers(page).get_by_role("button", name="Decline Tom Baker").click()

    expect(offers(page)).to_be_hidden()
    chat.refresh_from_db()
    assert (chat.status, chat.offer_passed_by_id) == ("queued", desk["ana"].pk)


def test_the_countdown_runs_down_and_the_offer_leaves_when_its_time_is_up(page, desk):
    desk["channel"].project.offer_timeout_seconds = 3
    desk["channel"].project.save(update_fields=["offer_timeout_seconds"])
    open_dock(page)
    queued_chat(desk, "Priya Shah", "447700900303")
    route_queue(organization_id=desk["org"].pk)

    timer = offers(page).get_by_role("timer")
    expect(timer).to_have_text(re.compile(r"^[23] s$"))
    expect(timer).to_have_text("1 s", timeout=4000)
    expect(timer).to_have_text("Time is up", timeout=4000)
    expect(offers(page).get_by_role("button", name="Accept Priya Shah")).to_be_disabled()

    assert offers_expire_due() == 1
    expect(offers(page)).to_be_hidden()


def test_an_agent_corrects_a_chats_language_in_the_context_panel(page, desk):
    desk["channel"].project.offer_timeout_seconds = 0
    desk["channel"].project.save(update_fields=["offer_timeout_seconds"])
    contact = ContactFactory(organization=desk["org"], name="Lucía Fernández", wa_id="34600000001")
    chat = ConversationFactory(channel=desk["channel"], contact=contact, agent=desk["ana"])
    MessageFactory(conversation=chat, text="Hola, necesito ayuda")
    open_dock(page)
    page.get_by_role("navigation", name="Open chats").get_by_role(
        "button", name=re.compile("Lucía")
    ).click()

    language = page.get_by_role("combobox", name="Language")
    expect(language).to_have_value("en")
    language.select_option("es")

    expect(page.locator(".ctx-language-source")).to_have_text("set by a person")
    chat.refresh_from_db()
    assert (chat.language, chat.language_source) == ("es", LanguageSource.PERSON)
    assert chat.status == ConversationStatus.ASSIGNED
