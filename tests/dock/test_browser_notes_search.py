"""The agent's tools in a real browser: internal notes, quick replies, and finding an
earlier conversation to read its transcript."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conversations.models import ConversationStatus, Direction, Message, QuickReply
from tests.dock.test_browser import chat_button, open_dock, shift, wait_for
from tests.factories import ConversationFactory, MessageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The shift of the dock's other browser tests.
__all__ = ["shift"]


def test_a_note_shows_as_a_note_and_never_reaches_the_customer(
    page, shift, fake_cloud_api, daphne_server
):
    channel = shift["channel"]
    fake_cloud_api.webhook_url = f"{daphne_server.url}/webhooks/whatsapp/{channel.key}/"
    fake_cloud_api.app_secret = channel.app_secret
    open_dock(page)
    chat_button(page, "Maria Lopez").click()
    composer = page.get_by_role("textbox", name="Message")

    note_toggle = page.get_by_role("button", name="Note", exact=True)
    note_toggle.click()
    expect(note_toggle).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("status").filter(has_text="only your team")).to_be_visible()
    composer.fill("Long-standing customer, offer the loyalty rate")
    composer.press("Enter")

    note = page.locator(".msg.note").last
    expect(note).to_contain_text("Long-standing customer")
    expect(note).to_contain_text("Internal note")
    # Back to replying (Alt+N toggles too): the reply goes out, the note never did.
    composer.press("Alt+n")
    expect(note_toggle).to_have_attribute("aria-pressed", "false")
    composer.fill("Yes, the discount is still valid.")
    composer.press("Enter")

    sent = wait_for(lambda: fake_cloud_api.sent)
    assert [s["body"]["text"]["body"] for s in sent] == ["Yes, the discount is still valid."]
    assert Message.objects.get(direction=Direction.NOTE).send_after is None
    time_for_a_stray_send = 1.0
    page.wait_for_timeout(time_for_a_stray_send * 1000)
    assert not any("loyalty" in str(s["body"]) for s in fake_cloud_api.sent)


def test_slash_opens_the_quick_replies_and_inserts_one_filled_from_the_chat(page, shift):
    organization = shift["ana"].organization
    project = shift["channel"].project
    QuickReply.objects.create(
        organization=organization,
        project=project,
        shortcut="refund",
        text="Refunds take five days.",
    )
    QuickReply.objects.create(
        organization=organization,
        shortcut="renew",
        text="Hi {customer.first_name}, {agent.first_name} from {project.name} here: "
        "{project.offer}. {customer.loyalty}",
    )
    QuickReply.objects.create(
        organization=organization,
        project=shift["ben"].projects.create(organization=organization, name="Other campaign"),
        shortcut="relocate",
        text="Not for this campaign.",
    )
    open_dock(page)
    chat_button(page, "Maria Lopez").click()
    composer = page.get_by_role("textbox", name="Message")

    composer.press_sequentially("/re")
    picker = page.get_by_role("listbox", name="Quick replies")
    expect(picker.get_by_role("option")).to_have_count(2)
    expect(picker.get_by_role("option").first).to_contain_text("/refund")
    composer.press("ArrowDown")
    expect(picker.get_by_role("option", name="/renew", exact=False)).to_have_attribute(
        "aria-selected", "true"
    )
    composer.press("Enter")

    expect(picker).to_be_hidden()
    # An unknown placeholder stays for the agent to see; nothing was sent.
    expect(composer).to_have_value(
        "Hi Maria, Ana from Spring Renewals here: 12 months at 20% off. {customer.loyalty}"
    )
    assert not Message.objects.filter(direction=Direction.OUT).exists()

    composer.fill("/zzz")
    expect(picker).to_contain_text("No quick reply matches")
    composer.press("Escape")
    expect(picker).to_be_hidden()


def test_ctrl_k_finds_a_closed_chat_by_a_word_of_its_thread_and_opens_its_transcript(page, shift):
    ana = shift["ana"]
    earlier = timezone.now() - timedelta(days=9)
    closed = ConversationFactory(
        channel=shift["channel"],
        contact__name="Olga Petrova",
        agent=ana,
        status=ConversationStatus.CLOSED,
        outcome="Reshipped",
        created_at=earlier,
        closed_at=earlier + timedelta(hours=1),
    )
    MessageFactory(conversation=closed, text="My parcel never reached the depot", sent_at=earlier)
    MessageFactory(
        conversation=closed,
        direction=Direction.OUT,
        status="read",
        text="We have sent a new one today",
        sender=ana,
        sent_at=earlier + timedelta(minutes=5),
    )
    open_dock(page)

    page.keyboard.press("Control+K")
    page.get_by_role("combobox", name="Find a chat").press_sequentially("depot")
    found = page.get_by_role("option").filter(has_text="Olga Petrova")
    expect(found).to_be_visible()
    expect(found).to_contain_text("Reshipped")
    page.keyboard.press("Enter")

    transcript = page.get_by_role("complementary", name="Olga Petrova")
    expect(transcript).to_be_visible()
    expect(transcript).to_contain_text("My parcel never reached the depot")
    expect(transcript).to_contain_text("We have sent a new one today")
    expect(transcript).to_contain_text("Read-only")
    transcript.get_by_role("button", name="Close transcript").click()
    expect(transcript).to_be_hidden()


def test_an_earlier_conversation_in_the_context_opens_its_transcript_beside_the_live_one(
    page, shift
):
    chat = shift["chats"]["Tom Baker"]
    earlier = timezone.now() - timedelta(days=30)
    before = ConversationFactory(
        channel=shift["channel"],
        contact=chat.contact,
        agent=shift["ben"],
        status=ConversationStatus.CLOSED,
        outcome="Router replaced",
        created_at=earlier,
        closed_at=earlier,
    )
    MessageFactory(conversation=before, text="The old router is broken", sent_at=earlier)
    open_dock(page)
    chat_button(page, "Tom Baker").click()

    page.get_by_role("complementary", name="Context").get_by_role(
        "button", name="Read the conversation"
    ).click()

    transcript = page.get_by_role("complementary", name="Tom Baker")
    expect(transcript).to_contain_text("The old router is broken")
    # The live thread stays where it was, beside it.
    expect(page.locator("#thread-name")).to_have_text("Tom Baker")
    expect(page.get_by_role("textbox", name="Message")).to_be_visible()
