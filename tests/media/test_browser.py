"""The dock shows a customer's files and sends the agent's, in Chromium against daphne:
the customer's photo, voice note and document come through the real webhook, are fetched
from the fake Cloud API by the server and appear in the thread; the agent's attachments
reach the fake as uploads followed by sends."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from channels_whatsapp import sample_media
from channels_whatsapp.fake_cloud import SAMPLE_DOCUMENT_ID, SAMPLE_PHOTO_ID, SAMPLE_VOICE_ID
from channels_whatsapp.signature import HEADER, sign
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MembershipFactory
from tests.live_server import sign_in
from tests.whatsapp import payloads as wa

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WA_ID = "447700900555"


@pytest.fixture
def chat():
    ana = MembershipFactory(user__name="Ana Agent", user__email="ana@media.test", max_open=5)
    channel = ChannelFactory(organization=ana.organization)
    ana.projects.set([channel.project])
    contact = ContactFactory(organization=ana.organization, name="Maria Lopez", wa_id=WA_ID)
    return ConversationFactory(channel=channel, contact=contact, agent=ana)


def customer_sends(daphne_server, channel, kind: str, content: dict) -> None:
    payload = wa.delivery(
        wa.value(
            channel,
            contacts=[wa.contact(WA_ID, "Maria Lopez")],
            messages=[wa.message(kind, content, sender=WA_ID)],
        )
    )
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{daphne_server.url}/webhooks/whatsapp/{channel.key}/",
        content=body,
        headers={"Content-Type": "application/json", HEADER: sign(body, channel.app_secret)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def open_chat(page) -> None:
    sign_in(page, "ana@media.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    expect(page.locator("#connection")).to_have_text("Live")
    page.get_by_role("navigation", name="Open chats").get_by_role(
        "button", name="Maria Lopez"
    ).click()


def test_a_customers_photo_voice_note_and_document_show_in_the_thread(page, daphne_server, chat):
    open_chat(page)
    customer_sends(
        daphne_server,
        chat.channel,
        "image",
        {"id": SAMPLE_PHOTO_ID, "mime_type": "image/jpeg", "caption": "The box as it came"},
    )
    customer_sends(
        daphne_server,
        chat.channel,
        "audio",
        {"id": SAMPLE_VOICE_ID, "mime_type": "audio/ogg; codecs=opus", "voice": True},
    )
    customer_sends(
        daphne_server,
        chat.channel,
        "document",
        {"id": SAMPLE_DOCUMENT_ID, "mime_type": "application/pdf", "filename": "delivery-note.pdf"},
    )

    photo = page.locator("#messages img.media-image")
    expect(photo).to_have_count(1)
    page.wait_for_function(
        "() => { const i = document.querySelector('#messages img.media-image');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    expect(page.locator("#messages")).to_contain_text("The box as it came")

    voice = page.locator("#messages audio")
    expect(voice).to_have_count(1)
    expect(page.locator("#messages .media-audio")).to_contain_text("Voice message")
    page.wait_for_function(
        "() => { const a = document.querySelector('#messages audio');"
        " return a && a.readyState >= 1 && a.duration > 0 && !a.error; }"
    )
    # Playable: the browser starts it and its time moves.
    page.evaluate(
        "() => { const a = document.querySelector('#messages audio'); a.muted = true; return a.play(); }"
    )
    page.wait_for_function("() => document.querySelector('#messages audio').currentTime > 0")

    link = page.get_by_role("link", name="Download")
    expect(link).to_have_count(1)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "delivery-note.pdf"
    with open(download.path(), "rb") as kept:
        assert kept.read() == sample_media.document_pdf()


def test_a_file_that_cannot_be_downloaded_says_so(page, daphne_server, fake_cloud_api, chat):
    open_chat(page)
    fake_cloud_api.fail_downloads(100)
    customer_sends(
        daphne_server, chat.channel, "image", {"id": SAMPLE_PHOTO_ID, "mime_type": "image/jpeg"}
    )

    expect(page.locator("#messages .media-failed")).to_contain_text("could not be downloaded")
    fake_cloud_api.fail_downloads(0)


def test_an_agent_sends_a_pdf_and_a_dropped_picture(page, daphne_server, fake_cloud_api, chat):
    open_chat(page)
    pdf = sample_media.document_pdf()
    page.locator("#composer-file").set_input_files(
        {"name": "offer.pdf", "mimeType": "application/pdf", "buffer": pdf}
    )
    expect(page.locator("#composer-attachment")).to_contain_text("offer.pdf")
    page.get_by_role("textbox", name="Message").fill("Your renewal offer")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#composer-attachment")).to_be_hidden()

    picture = sample_media.photo_jpeg()
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "parcel.jpg", { type: "image/jpeg" }));
            const zone = document.querySelector("#composer");
            zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        }""",
        base64.b64encode(picture).decode(),
    )
    expect(page.locator("#composer-attachment img.attachment-preview")).to_be_visible()
    page.get_by_role("button", name="Send").click()

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len(fake_cloud_api.sent) < 2:
        time.sleep(0.2)
    uploads = {u["filename"]: u for u in fake_cloud_api.uploads}
    sent = {s["body"]["type"]: s for s in fake_cloud_api.sent}
    assert set(uploads) == {"offer.pdf", "parcel.jpg"}
    assert uploads["offer.pdf"]["size"] == len(pdf) and uploads["parcel.jpg"]["size"] == len(
        picture
    )
    assert sent["document"]["body"]["document"]["id"] == uploads["offer.pdf"]["id"]
    assert sent["document"]["body"]["document"]["caption"] == "Your renewal offer"
    assert sent["image"]["body"]["image"]["id"] == uploads["parcel.jpg"]["id"]
    for kind, name in (("document", "offer.pdf"), ("image", "parcel.jpg")):
        assert uploads[name]["at"] < sent[kind]["at"]
    # Both show in the thread as the agent's, the picture inline.
    expect(page.locator("#messages .msg.out img.media-image")).to_have_count(1)
    expect(page.locator("#messages .msg.out .document")).to_contain_text("offer.pdf")
