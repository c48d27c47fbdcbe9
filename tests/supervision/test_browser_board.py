"""The finished board in a real browser: a missed first reply rings and turns red, the two
plain overload states say why, the assign list offers only who can take the chat and asks
before going over capacity, a phone gets no sideways scroll, and axe-core finds the page
readable in light and in dark."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import Conversation, ConversationEvent, Role
from conversations.sla import sla_breaches_sweep
from presence.models import PresenceStatus
from tests.dock.test_browser import customer_writes, wait_for
from tests.dock.test_browser_alerts import RECORDERS, violations
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.supervision.test_browser import open_board

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team():
    """Sam supervises Spring Renewals. Ana is over capacity (2 open, maximum 1); Ben's
    customer Maria has waited ten minutes; Dee is Available but full (1 / 1); Carl is
    Offline; Eva works another project. All speak English."""
    sam = MembershipFactory(
        role=Role.SUPERVISOR,
        user__name="Sam Supervisor",
        user__email="sam@board.test",
        max_open=0,
        presence=PresenceStatus.OFFLINE,
    )
    organization = sam.organization
    channel = ChannelFactory(organization=organization, project__name="Spring Renewals")
    other = ChannelFactory(organization=organization, project__name="Winter Sales")

    def agent(name: str, **kwargs):
        return MembershipFactory(
            organization=organization,
            user__name=name,
            user__email=f"{name.split()[0].lower()}@board.test",
            projects=[kwargs.pop("project", channel.project)],
            **kwargs,
        )

    ana = agent("Ana Agent", max_open=3)
    ben = agent("Ben Agent", max_open=3)
    dee = agent("Dee Agent", max_open=1)
    agent("Carl Agent", max_open=5, presence=PresenceStatus.OFFLINE)
    agent("Eva Agent", max_open=5, project=other.project)

    def chat(name: str, owner, waited_minutes: float = 0):
        contact = ContactFactory(organization=organization, name=name)
        at = timezone.now() - timedelta(minutes=waited_minutes)
        conversation = ConversationFactory(
            channel=channel, agent=owner, contact=contact, last_inbound_at=at
        )
        MessageFactory(conversation=conversation, text=f"Hello from {name}", sent_at=at)
        return conversation

    chat("Tom Baker", ana)
    chat("Priya Shah", ana)
    ana.max_open = 1
    ana.save(update_fields=["max_open"])
    maria = chat("Maria Lopez", ben, waited_minutes=10)
    chat("Olu Ade", dee)
    return {"channel": channel, "ana": ana, "ben": ben, "dee": dee, "maria": maria}


def agent_row(page, name: str):
    return page.locator("#agents tbody tr").filter(has=page.get_by_text(name, exact=True))


def test_a_missed_first_reply_turns_red_rings_and_counts(page, daphne_server, team):
    page.add_init_script(RECORDERS)
    project = team["channel"].project
    project.sla_first_reply_seconds = 2
    project.save(update_fields=["sla_first_reply_seconds"])
    open_board(page)
    sla = page.get_by_role("region", name="First replies in Spring Renewals")
    expect(sla).to_contain_text("First reply target")
    expect(sla).to_contain_text("2 s")
    expect(sla.locator("[data-counter='missed today'] strong")).to_have_text("0")

    customer_writes(
        daphne_server, team["channel"], wa_id="447700900199", name="Olga Novak", text="Help!"
    )

    row = page.locator("#open tbody tr").filter(has_text="Olga Novak")
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\bsla-red\b"), timeout=5_000)
    expect(row.locator(".first-reply")).to_contain_text("Missed")
    assert page.evaluate("window.__chimes.length") == 0

    # What beat's sweep does: the breach is recorded once and reaches the board.
    assert sla_breaches_sweep() == 1
    expect(sla.locator("[data-counter='missed, chat open'] strong")).to_have_text("1")
    expect(sla.locator("[data-counter='missed today'] strong")).to_have_text("1")
    expect(page.get_by_role("alert").filter(has_text="First reply missed")).to_contain_text(
        "Olga Novak"
    )
    chimes = wait_for(lambda: page.evaluate("window.__chimes"))
    assert len(chimes) == 1
    assert chimes[0].endswith("/static/audio/chime.wav")
    assert Conversation.objects.get(contact__name="Olga Novak").sla_breached_at is not None

    # With the sound switched off, the next miss is shown and counted, silently.
    page.get_by_role("switch", name="Sound on a missed first reply").uncheck()
    customer_writes(
        daphne_server, team["channel"], wa_id="447700900198", name="Ivan Petrov", text="Hi?"
    )
    expect(page.locator("#open tbody tr").filter(has_text="Ivan Petrov")).to_have_class(
        re.compile(r"\bsla-red\b"), timeout=5_000
    )
    assert sla_breaches_sweep() == 1
    expect(page.get_by_role("alert").filter(has_text="First reply missed")).to_contain_text(
        "Ivan Petrov"
    )
    expect(sla.locator("[data-counter='missed today'] strong")).to_have_text("2")
    assert page.evaluate("window.__chimes.length") == 1


def test_over_capacity_and_a_waiting_customer_are_two_plain_states(page, team):
    open_board(page)

    ana, ben, dee = (agent_row(page, n) for n in ("Ana Agent", "Ben Agent", "Dee Agent"))
    expect(ana.locator(".flag")).to_have_text(["Over capacity"])
    expect(ben.locator(".flag")).to_have_text(["Customer waiting 5 min"])
    expect(dee.locator(".flag")).to_have_count(0)  # full is not over
    expect(ana.locator(".flag-capacity")).to_have_attribute(
        "title", "2 open chats, more than the maximum of 1"
    )
    # The legend explains both in words.
    page.get_by_text("What the flags mean").click()
    legend = page.locator(".sv-legend")
    expect(legend).to_contain_text("More open chats than the agent's maximum")
    expect(legend).to_contain_text("has waited five minutes or more")


def test_the_assign_list_offers_only_who_can_take_the_chat_and_asks_before_overload(page, team):
    open_board(page)
    page.locator("#open").get_by_role("button", name="Maria Lopez").click()
    panel = page.get_by_role("complementary", name="Conversation")
    expect(panel).to_contain_text("Hello from Maria Lopez")
    choice = panel.get_by_label("Reassign to")
    expect(choice.locator("option")).to_have_text(
        ["Dee Agent · 1 / 1 · Available · full", "Ana Agent · 2 / 1 · Available · full"]
    )
    # Offline Carl, Eva of another project and Ben who has it are not offered.
    expect(choice).not_to_contain_text("Carl")
    expect(choice).not_to_contain_text("Eva")

    choice.select_option(label="Dee Agent · 1 / 1 · Available · full")
    panel.get_by_role("button", name="Reassign").click()
    dialog = page.get_by_role("dialog", name="Assign over capacity?")
    expect(dialog).to_contain_text("Dee Agent has 1 of 1 chats open")
    expect(dialog).to_contain_text("2 / 1, over capacity")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    team["maria"].refresh_from_db()
    assert team["maria"].agent == team["ben"]

    panel.get_by_role("button", name="Reassign").click()
    dialog.get_by_role("button", name="Assign over capacity").click()
    expect(agent_row(page, "Dee Agent").get_by_label("Load of Dee Agent")).to_have_text("2 / 1")
    team["maria"].refresh_from_db()
    assert team["maria"].agent == team["dee"]
    event = ConversationEvent.objects.filter(conversation=team["maria"]).latest("created_at")
    assert event.actor.user.email == "sam@board.test"
    assert event.data["over_capacity"] is True
    expect(panel).to_contain_text("over capacity (2 / 1)")


def test_a_phone_gets_no_sideways_scroll_and_axe_finds_the_board_readable(page, team):
    page.emulate_media(color_scheme="light")
    open_board(page)
    expect(agent_row(page, "Ana Agent")).to_be_visible()
    assert violations(page) == []
    page.emulate_media(color_scheme="dark")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.sv-card')).backgroundColor")
        == "rgb(20, 27, 41)"
    )
    assert violations(page) == []
    # The theme switch is the dock's: forced light under a dark system.
    page.get_by_role("combobox", name="Theme").select_option("light")
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.sv-card')).backgroundColor")
        == "rgb(255, 255, 255)"
    )

    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#open").get_by_role("button", name="Maria Lopez").click()
    expect(page.get_by_role("complementary", name="Conversation")).to_contain_text(
        "Hello from Maria Lopez"
    )
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 390
    assert violations(page) == []


def test_a_supervisor_assigns_a_queued_chat_to_a_busy_agent_with_room_without_a_question(
    page,
):
    sam = MembershipFactory(
        role=Role.SUPERVISOR,
        user__email="sam@board.test",
        max_open=0,
        presence=PresenceStatus.OFFLINE,
    )
    channel = ChannelFactory(organization=sam.organization, project__name="Spring Renewals")
    ben = MembershipFactory(
        organization=sam.organization,
        user__name="Ben Agent",
        projects=[channel.project],
        presence=PresenceStatus.BUSY,
    )
    lena = ConversationFactory(
        channel=channel, contact=ContactFactory(organization=sam.organization, name="Lena Park")
    )
    open_board(page)

    page.get_by_role("button", name="Assign Lena Park").click()
    panel = page.get_by_role("complementary", name="Conversation")
    choice = panel.get_by_label("Assign to")
    expect(choice.locator("option")).to_have_text(["Ben Agent · 0 / 3 · Busy"])
    panel.get_by_role("button", name="Assign", exact=True).click()

    expect(page.locator("#queue")).to_have_text("Nobody is waiting.")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(agent_row(page, "Ben Agent").get_by_label("Load of Ben Agent")).to_have_text("1 / 3")
    lena.refresh_from_db()
    assert lena.agent == ben


def test_a_supervisor_keeps_a_note_on_any_chat_and_it_never_reaches_the_customer(
    page, team, fake_cloud_api
):
    sent_before = len(fake_cloud_api.sent)
    open_board(page)
    page.locator("#open").get_by_role("button", name="Maria Lopez").click()
    panel = page.get_by_role("complementary", name="Conversation")
    expect(panel).to_contain_text("Hello from Maria Lopez")
    panel.get_by_label("Internal note").fill("Check her contract end date before offering.")
    panel.get_by_role("button", name="Add note").click()

    expect(panel.locator(".sv-msg-note")).to_contain_text("Check her contract end date")
    note = team["maria"].messages.get(direction="note")
    assert note.sender.user.email == "sam@board.test"
    assert note.status == ""
    time.sleep(1)
    assert len(fake_cloud_api.sent) == sent_before
