"""The dock tells an agent of work they are not looking at and keeps the most urgent chat
on top, without taking their place or focus; every chat counts down to its first reply;
and the page reads well in light and in dark (axe-core), in a real Chromium."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from conversations.events import EventType
from conversations.models import Conversation, Direction, DockEvent, MessageStatus
from conversations.sla import sla_breaches_sweep
from tests.dock.test_browser import chat_button, customer_writes, open_dock, wait_for
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before any script of the page: count the chimes the page plays (Chromium plays no sound
# here), keep every Notification the page makes, and every frame its socket receives.
RECORDERS = """
window.__chimes = [];
HTMLMediaElement.prototype.play = function () {
  window.__chimes.push(this.currentSrc || this.src);
  return Promise.resolve();
};
window.__notifications = [];
const RealNotification = window.Notification;
class RecordedNotification extends RealNotification {
  constructor(title, options) {
    window.__notifications.push({ title, body: (options || {}).body, tag: (options || {}).tag });
    super(title, options);
  }
}
Object.defineProperty(RecordedNotification, "permission", { get: () => RealNotification.permission });
RecordedNotification.requestPermission = (...args) => RealNotification.requestPermission(...args);
window.Notification = RecordedNotification;
window.__frames = [];
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", (e) => {
      try { window.__frames.push(JSON.parse(e.data)); } catch (err) { /* not JSON */ }
    });
  }
};
"""


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


@pytest.fixture
def desk():
    """Ana works three chats: Maria has waited ten minutes for an answer; Tom and Priya
    were answered (Priya more recently). Nobody else takes chats."""
    ana = MembershipFactory(user__name="Ana Agent", user__email="ana@alerts.test", max_open=6)
    channel = ChannelFactory(organization=ana.organization, project__name="Spring Renewals")
    ana.projects.set([channel.project])
    chats = {}
    for name, wa_id, wrote, answered in (
        ("Maria Lopez", "447700900301", 10, None),
        ("Tom Baker", "447700900302", 20, 15),
        ("Priya Shah", "447700900303", 8, 5),
    ):
        contact = ContactFactory(organization=ana.organization, name=name, wa_id=wa_id)
        chat = ConversationFactory(
            channel=channel,
            contact=contact,
            agent=ana,
            last_inbound_at=ago(minutes=wrote),
            last_message_at=ago(minutes=answered or wrote),
        )
        MessageFactory(conversation=chat, text=f"Hello from {name}", sent_at=ago(minutes=wrote))
        if answered:
            MessageFactory(
                conversation=chat,
                direction=Direction.OUT,
                status=MessageStatus.READ,
                sender=ana,
                text="Happy to help",
                sent_at=ago(minutes=answered),
            )
        chats[name] = chat
    return {"ana": ana, "channel": channel, "chats": chats}


@pytest.fixture
def recorded(page, daphne_server):
    page.context.grant_permissions(["notifications"], origin=daphne_server.url)
    page.add_init_script(RECORDERS)
    return page


def chat_names(page) -> list[str]:
    return page.locator("#chat-list .chat-name").all_inner_texts()


def test_a_message_in_a_chat_not_on_screen_chimes_and_notifies_with_the_customers_name(
    recorded, desk, daphne_server
):
    page = recorded
    open_dock(page, "ana@alerts.test")
    expect(page.get_by_role("switch", name="Sound")).to_be_checked()
    expect(page.get_by_role("switch", name="Desktop alerts")).to_be_checked()
    chat_button(page, "Maria Lopez").click()

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900302", name="Tom Baker", text="Still down"
    )

    expect(chat_button(page, "Tom Baker")).to_contain_text("Still down")
    chimes = wait_for(lambda: page.evaluate("window.__chimes"))
    assert len(chimes) == 1 and chimes[0].endswith("/static/audio/chime.wav")
    notifications = page.evaluate("window.__notifications")
    assert [(n["title"], n["body"]) for n in notifications] == [("Tom Baker", "Still down")]

    # A message in the chat on screen is read as it comes: no chime, no notification.
    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900301", name="Maria Lopez", text="Hi again"
    )
    expect(page.locator("#messages")).to_contain_text("Hi again")
    time.sleep(0.5)
    assert len(page.evaluate("window.__chimes")) == 1
    assert len(page.evaluate("window.__notifications")) == 1


def test_the_alert_switches_are_remembered_and_silence_the_dock(recorded, desk, daphne_server):
    page = recorded
    open_dock(page, "ana@alerts.test")
    page.get_by_role("switch", name="Sound").uncheck()
    page.get_by_role("switch", name="Desktop alerts").uncheck()
    page.reload()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.get_by_role("switch", name="Sound")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Desktop alerts")).not_to_be_checked()
    chat_button(page, "Maria Lopez").click()

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900199", name="Olga Novak", text="New here"
    )

    expect(chat_button(page, "Olga Novak")).to_be_visible()
    time.sleep(0.5)
    assert page.evaluate("window.__chimes") == []
    assert page.evaluate("window.__notifications") == []


def test_a_new_chat_chimes_and_notifies_as_new(recorded, desk, daphne_server):
    page = recorded
    open_dock(page, "ana@alerts.test")

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900199", name="Olga Novak", text="New here"
    )

    expect(chat_button(page, "Olga Novak")).to_be_visible()
    wait_for(lambda: page.evaluate("window.__notifications"))
    assert page.evaluate("window.__notifications[0].title") == "New chat: Olga Novak"
    assert len(page.evaluate("window.__chimes")) == 1


def test_the_list_resorts_on_a_new_message_without_moving_the_focus(page, desk, daphne_server):
    open_dock(page, "ana@alerts.test")
    # Maria waits for an answer; then the rest by last activity.
    expect(page.locator("#chat-list .chat-name")).to_have_text(
        ["Maria Lopez", "Priya Shah", "Tom Baker"]
    )
    chat_button(page, "Priya Shah").click()
    composer = page.get_by_role("textbox", name="Message")
    composer.press_sequentially("Let me check your")
    page.evaluate("for (const li of document.querySelectorAll('#chat-list li')) li.keptNode = true")

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900302", name="Tom Baker", text="Hello?"
    )

    # Tom now waits too, since just now: after Maria, before the answered Priya.
    expect(page.locator("#chat-list .chat-name")).to_have_text(
        ["Maria Lopez", "Tom Baker", "Priya Shah"]
    )
    expect(composer).to_be_focused()
    expect(composer).to_have_value("Let me check your")
    composer.press_sequentially(" order")
    expect(composer).to_have_value("Let me check your order")
    # The rows moved; none was made again.
    assert page.evaluate(
        "[...document.querySelectorAll('#chat-list li')].every((li) => li.keptNode)"
    )


def test_a_focused_row_keeps_the_focus_while_others_move_around_it(page, desk, daphne_server):
    open_dock(page, "ana@alerts.test")
    expect(page.locator("#chat-list .chat-name")).to_have_text(
        ["Maria Lopez", "Priya Shah", "Tom Baker"]
    )
    priya = chat_button(page, "Priya Shah")
    priya.focus()

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900302", name="Tom Baker", text="Hello?"
    )

    expect(page.locator("#chat-list .chat-name")).to_have_text(
        ["Maria Lopez", "Tom Baker", "Priya Shah"]
    )
    expect(priya).to_be_focused()


def test_the_first_reply_countdown_turns_red_and_the_breach_arrives_once(
    recorded, desk, daphne_server
):
    page = recorded
    project = desk["channel"].project
    # Long enough to see the countdown run on a loaded machine, short enough to wait out.
    project.sla_first_reply_seconds = 8
    project.save(update_fields=["sla_first_reply_seconds"])
    open_dock(page, "ana@alerts.test")

    customer_writes(
        daphne_server, desk["channel"], wa_id="447700900199", name="Olga Novak", text="Help!"
    )

    olga = chat_button(page, "Olga Novak")
    pill = olga.locator(".sla")
    expect(pill).to_have_text(re.compile(r"^SLA \d:\d\d$"))
    expect(olga).to_have_attribute("aria-label", re.compile("first reply due"))
    expect(pill).to_have_class(re.compile(r"\bred\b"), timeout=12_000)
    expect(pill).to_have_text(re.compile(r"^SLA \u2212\d:\d\d$"))
    expect(olga).to_have_attribute("aria-label", re.compile("first reply overdue"))
    # The chats answered before the project had a target show no countdown.
    expect(chat_button(page, "Tom Baker").locator(".sla")).to_have_count(0)

    # What beat's sweep does, twice over: one breach, one event.
    assert sla_breaches_sweep() + sla_breaches_sweep() == 1
    chat = Conversation.objects.get(contact__name="Olga Novak")
    assert chat.sla_breached_at is not None

    def breaches():
        return page.evaluate("window.__frames.filter((f) => f.type === 'sla.breached')")

    frames = wait_for(breaches)
    time.sleep(1)
    assert len(breaches()) == 1
    assert frames[0]["data"]["conversation"]["id"] == chat.pk
    assert DockEvent.objects.filter(type=EventType.SLA_BREACHED).count() == 1


def test_the_countdown_turns_amber_in_the_last_quarter(page, desk):
    open_dock(page, "ana@alerts.test")

    phases = page.evaluate(
        """() => {
          const at = (seconds) => new Date(Date.now() + seconds * 1000).toISOString();
          const chat = (left) => ({ sla_due_at: at(left), sla_target_seconds: 100 });
          const s = window.CXGearDock.sla.status;
          return [s(chat(60)).phase, s(chat(20)).phase, s(chat(-3)).phase,
                  s({ ...chat(20), first_reply_at: at(-1) })];
        }"""
    )
    assert phases == ["ok", "amber", "red", None]


@pytest.fixture
def urgent_desk(desk):
    """Besides the shift's chats: one due comfortably, one nearly due, one overdue, so
    every colour of the list is on screen."""
    project = desk["channel"].project
    project.sla_first_reply_seconds = 3600
    project.save(update_fields=["sla_first_reply_seconds"])
    for name, wa_id, due_in in (
        ("Olga Novak", "447700900311", 3000),
        ("Sven Berg", "447700900312", 600),
        ("Lena Park", "447700900313", -30),
    ):
        contact = ContactFactory(organization=desk["ana"].organization, name=name, wa_id=wa_id)
        chat = ConversationFactory(
            channel=desk["channel"],
            contact=contact,
            agent=desk["ana"],
            unread_count=2,
            last_inbound_at=ago(seconds=3600 - due_in),
            sla_due_at=timezone.now() + timedelta(seconds=due_in),
        )
        MessageFactory(conversation=chat, text="Are you there?", sent_at=ago(seconds=3600 - due_in))
    # Maria has waited ten minutes with no deadline: the fixed colouring shows for her.
    return desk


ACCESSIBILITY_RULES = {
    "color-contrast",
    "button-name",
    "input-button-name",
    "label",
    "select-name",
    "aria-input-field-name",
    "aria-toggle-field-name",
    "aria-command-name",
    "link-name",
    "frame-title",
}


def violations(page) -> list[str]:
    results = Axe().run(page)
    found = results.response["violations"]
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]} {v['nodes'][0]['failureSummary']}"
        for v in found
        if v["id"] in ACCESSIBILITY_RULES
    ]


def background(page) -> str:
    return page.evaluate("getComputedStyle(document.querySelector('.sidebar')).backgroundColor")


def test_axe_finds_no_contrast_or_name_violation_in_light_and_in_dark(page, urgent_desk):
    page.emulate_media(color_scheme="light")
    open_dock(page, "ana@alerts.test")
    chat_button(page, "Maria Lopez").click()
    expect(page.locator("#chat-list .sla.red")).to_have_count(1)
    expect(page.locator("#chat-list .sla.amber")).to_have_count(1)
    expect(page.locator("#messages")).to_contain_text("Hello from Maria Lopez")
    assert background(page) == "rgb(255, 255, 255)"
    assert violations(page) == []

    # The system prefers dark: the dock follows.
    page.emulate_media(color_scheme="dark")
    assert background(page) == "rgb(20, 27, 41)"
    assert violations(page) == []

    # Forced light under a dark system, remembered across a reload; then forced dark.
    theme = page.get_by_role("combobox", name="Theme")
    theme.select_option("light")
    assert background(page) == "rgb(255, 255, 255)"
    page.reload()
    expect(page.locator("#connection")).to_have_text("Live")
    expect(page.get_by_role("combobox", name="Theme")).to_have_value("light")
    assert background(page) == "rgb(255, 255, 255)"
    page.emulate_media(color_scheme="light")
    page.get_by_role("combobox", name="Theme").select_option("dark")
    assert background(page) == "rgb(20, 27, 41)"
    assert violations(page) == []

    # The dialogs are themed too.
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_role("dialog", name="Transfer this chat")).to_be_visible()
    assert violations(page) == []


def test_a_chat_moving_up_keeps_the_agents_place_in_a_scrolled_list(page, daphne_server):
    ana = MembershipFactory(user__email="ana@busy.test", max_open=20)
    channel = ChannelFactory(organization=ana.organization)
    ana.projects.set([channel.project])
    for n in range(14):
        contact = ContactFactory(
            organization=ana.organization, name=f"Customer {n:02d}", wa_id=f"4477009004{n:02d}"
        )
        chat = ConversationFactory(
            channel=channel,
            contact=contact,
            agent=ana,
            last_inbound_at=ago(minutes=60 + n),
            last_message_at=ago(minutes=30 + n),
        )
        MessageFactory(conversation=chat, sent_at=ago(minutes=60 + n))
        MessageFactory(
            conversation=chat,
            direction=Direction.OUT,
            status=MessageStatus.READ,
            sender=ana,
            sent_at=ago(minutes=30 + n),
        )
    open_dock(page, "ana@busy.test")
    names = page.locator("#chat-list .chat-name")
    expect(names).to_have_count(14)
    expect(names.first).to_have_text("Customer 00")
    # The agent scrolls down to read Customer 04's row at the top of the list, with more
    # chats below than the list shows.
    page.evaluate(
        """() => {
          const list = document.querySelector('.chats');
          const row = document.querySelector('#chat-list li:nth-child(5)');
          list.scrollTop = row.getBoundingClientRect().top - list.getBoundingClientRect().top;
        }"""
    )
    reading = chat_button(page, "Customer 04")
    before = reading.bounding_box()["y"]

    # The last chat's customer writes: their chat goes to the top, above the agent's place.
    customer_writes(daphne_server, channel, wa_id="447700900413", name="Customer 13", text="Hello?")

    expect(names.first).to_have_text("Customer 13")
    assert abs(reading.bounding_box()["y"] - before) < 2
