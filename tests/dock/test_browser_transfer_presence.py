"""Transfer that works and honest numbers, in a real browser (Debian's Chromium through
Playwright) against daphne with the Redis channel layer: a transfer to a full colleague,
a supervisor's hand on capacity and presence, and Busy with a reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations.models import Conversation, ConversationEvent, EventKind, Role
from conversations.services import member_update
from presence.models import BusyReason, PresenceChange, PresenceSource, PresenceStatus
from presence.services import presence_set
from routing.services import conversation_close
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
def floor():
    """Ana works three chats; Ben is full with one; Sam supervises and has a chat too."""
    ana = MembershipFactory(user__name="Ana Agent", user__email="ana@floor.test", max_open=5)
    org = ana.organization
    ben = MembershipFactory(
        organization=org, user__name="Ben Agent", user__email="ben@floor.test", max_open=1
    )
    sam = MembershipFactory(
        organization=org,
        role=Role.SUPERVISOR,
        user__name="Sam Supervisor",
        user__email="sam@floor.test",
        max_open=3,
    )
    channel = ChannelFactory(organization=org, project__name="Spring Renewals")
    for member in (ana, ben, sam):
        member.projects.set([channel.project])

    def chat(agent, name, wa_id, text):
        contact = ContactFactory(organization=org, name=name, wa_id=wa_id)
        conversation = ConversationFactory(channel=channel, contact=contact, agent=agent)
        MessageFactory(conversation=conversation, text=text)
        return conversation

    chats = {
        "Maria Lopez": chat(ana, "Maria Lopez", "447700900101", "Is my discount valid?"),
        "Tom Baker": chat(ana, "Tom Baker", "447700900102", "My router drops the line"),
        "Priya Shah": chat(ana, "Priya Shah", "447700900103", "Can I move my contract?"),
        "Zoe Quinn": chat(ben, "Zoe Quinn", "447700900104", "Where is my parcel?"),
        "Omar Said": chat(sam, "Omar Said", "447700900105", "I want to speak to a manager"),
    }
    for name in ("Break", "Training"):
        BusyReason.objects.create(organization=org, name=name)
    return {"ana": ana, "ben": ben, "sam": sam, "chats": chats}


def open_dock(page, email: str) -> None:
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")


def chat_button(page, name: str):
    return page.get_by_role("navigation", name="Open chats").get_by_role("button", name=name)


def second_page(browser, page):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=page.url)
    return context, context.new_page()


def test_an_agents_transfer_to_a_full_colleague_waits_then_lands_when_they_free_room(
    browser, page, floor
):
    open_dock(page, "ana@floor.test")
    bens, ben_page = second_page(browser, page)
    try:
        open_dock(ben_page, "ben@floor.test")
        expect(ben_page.get_by_label("Capacity")).to_have_text("1 / 1 open")

        chat_button(page, "Priya Shah").click()
        page.get_by_role("button", name="Transfer").click()
        dialog = page.get_by_role("dialog", name="Transfer this chat")
        colleague = dialog.get_by_label("Colleague", exact=True)
        expect(colleague).to_contain_text("Ben Agent (full, 1 / 1) — to them when they have room")
        colleague.select_option(value=str(floor["ben"].pk))
        expect(dialog.get_by_role("status")).to_contain_text("waits for Ben Agent")
        dialog.get_by_label("Note for whoever takes it").fill("Wants to move the contract")
        dialog.get_by_role("button", name="Transfer").click()

        expect(chat_button(page, "Priya Shah")).to_have_count(0)
        expect(page.locator("#toast")).to_have_text("Waiting for Ben Agent to have room.")
        expect(page.get_by_label("Capacity")).to_have_text("2 / 5 open")
        expect(chat_button(ben_page, "Priya Shah")).to_have_count(0)

        conversation_close(
            conversation=floor["chats"]["Zoe Quinn"], actor=floor["ben"], outcome="Delivered"
        )

        expect(chat_button(ben_page, "Priya Shah")).to_be_visible()
        expect(ben_page.get_by_label("Capacity")).to_have_text("1 / 1 open")
        chat_button(ben_page, "Priya Shah").click()
        messages = ben_page.locator("#messages")
        expect(messages).to_contain_text(
            "Transferred to Ben Agent when they have room by Ana Agent: “Wants to move the contract”"
        )
        expect(messages).to_contain_text("Waited")
    finally:
        bens.close()


def test_a_supervisors_transfer_to_a_full_colleague_lands_at_once_over_capacity(
    browser, page, floor
):
    open_dock(page, "sam@floor.test")
    bens, ben_page = second_page(browser, page)
    try:
        open_dock(ben_page, "ben@floor.test")

        chat_button(page, "Omar Said").click()
        page.get_by_role("button", name="Transfer").click()
        dialog = page.get_by_role("dialog", name="Transfer this chat")
        colleague = dialog.get_by_label("Colleague", exact=True)
        expect(colleague).to_contain_text("Ben Agent (full, 1 / 1) — lands now, over capacity")
        colleague.select_option(value=str(floor["ben"].pk))
        expect(dialog.get_by_role("status")).to_contain_text("over their capacity")
        dialog.get_by_role("button", name="Transfer").click()

        expect(chat_button(page, "Omar Said")).to_have_count(0)
        expect(chat_button(ben_page, "Omar Said")).to_be_visible()
        expect(ben_page.get_by_label("Capacity")).to_have_text("2 / 1 open")
        chat_button(ben_page, "Omar Said").click()
        expect(ben_page.locator("#messages")).to_contain_text(
            "Transferred from Sam Supervisor to Ben Agent by Sam Supervisor (over capacity)"
        )
    finally:
        bens.close()
    omar = Conversation.objects.get(pk=floor["chats"]["Omar Said"].pk)
    event = ConversationEvent.objects.get(conversation=omar, kind=EventKind.TRANSFERRED)
    assert (event.actor, event.to_agent) == (floor["sam"], floor["ben"])
    assert event.data["over_capacity"] is True


def test_a_supervisors_capacity_change_shows_on_the_agents_dock_within_a_second(page, floor):
    open_dock(page, "ana@floor.test")
    expect(page.get_by_label("Capacity")).to_have_text("3 / 5 open")

    member_update(member=floor["ana"], actor=floor["sam"], max_open=7)

    expect(page.get_by_label("Capacity")).to_have_text("3 / 7 open", timeout=1000)


def test_a_supervisor_setting_the_agent_offline_is_named_on_their_dock(page, floor):
    open_dock(page, "ana@floor.test")
    expect(page.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    presence_set(
        member=floor["ana"],
        status=PresenceStatus.OFFLINE,
        source=PresenceSource.SUPERVISOR,
        actor=floor["sam"],
    )

    expect(page.get_by_role("button", name="Offline", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.get_by_role("alert").filter(has_text="Sam Supervisor")).to_contain_text(
        "Sam Supervisor set you Offline at"
    )
    expect(page.locator("#presence-offline")).to_contain_text(
        "Your 3 open chats go back to the queue at"
    )


def test_going_offline_with_open_chats_says_what_happens_and_when(page, floor):
    open_dock(page, "ana@floor.test")

    page.get_by_role("button", name="Offline", exact=True).click()
    dialog = page.get_by_role("dialog", name="Go offline?")
    expect(dialog).to_contain_text("You have 3 open chats. If you are still Offline at")
    expect(dialog).to_contain_text("(2 minutes from now), they go back to the queue")
    dialog.get_by_role("button", name="Go offline").click()

    expect(page.get_by_role("button", name="Offline", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("#presence-offline")).to_contain_text("go back to the queue at")


def test_busy_with_a_reason_shows_the_reason_and_a_running_time(page, floor):
    open_dock(page, "ana@floor.test")

    page.get_by_role("button", name="Busy").click()
    dialog = page.get_by_role("dialog", name="Why are you busy?")
    dialog.get_by_role("button", name="Break").click()

    state = page.locator("#presence-state")
    expect(state).to_have_text(re.compile(r"^Busy · Break · 00:0[0-2]$"))
    expect(state).to_have_text(re.compile(r"^Busy · Break · 00:0[2-5]$"), timeout=5000)
    expect(page.get_by_role("button", name="Busy")).to_have_attribute("aria-pressed", "true")
    change = PresenceChange.objects.get(membership=floor["ana"], status=PresenceStatus.BUSY)
    assert change.reason_name == "Break"


def test_the_board_shows_the_busy_reason_and_the_time_in_the_state(page, floor):
    reason = BusyReason.objects.get(organization=floor["ana"].organization, name="Training")
    sign_in(page, "sam@floor.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    page.goto("/supervision/")
    expect(page.locator("#connection")).to_have_text("Live")

    presence_set(member=floor["ana"], status=PresenceStatus.BUSY, source="dock", reason=reason)

    row = page.locator(f'tr[data-agent="{floor["ana"].pk}"]')
    expect(row).to_contain_text("Busy · Training")
    in_state = row.locator(".in-state")
    expect(in_state).to_have_text(re.compile(r" since .+ · [0-2]s$"))
    expect(in_state).to_have_text(re.compile(r" since .+ · [3-6]s$"), timeout=6000)
