"""A customer's photo, voice note, video, sticker or document: recorded at once, then
fetched from the Cloud API, checked and kept; or marked when it cannot be."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from channels_whatsapp import sample_media
from conversations.events import EventType
from conversations.models import DockEvent
from tests.media.conftest import customer_sends, medium, sha256

pytestmark = pytest.mark.django_db

KINDS = {
    "image": (sample_media.photo_jpeg(), "image/jpeg", {}),
    "audio": (sample_media.voice_ogg(), "audio/ogg; codecs=opus", {"voice": True}),
    "document": (sample_media.document_pdf(), "application/pdf", {"filename": "note.pdf"}),
    "video": (b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40, "video/mp4", {}),
    "sticker": (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 300, "image/webp", {}),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_file_is_kept_byte_for_byte(
    chat, fake_cloud, django_capture_on_commit_callbacks, kind
):
    data, mime_type, extra = KINDS[kind]
    message = customer_sends(
        chat,
        kind,
        medium(fake_cloud, data, mime_type, **extra),
        capture=django_capture_on_commit_callbacks,
    )

    message.refresh_from_db()
    assert message.media["state"] == "ready"
    assert message.media["url"] == f"/api/v1/media/{message.pk}/"
    assert message.media["size"] == len(data)
    with message.file.open("rb") as kept:
        assert sha256(kept.read()) == sha256(data)


def test_the_message_shows_at_once_and_its_file_follows_as_an_update(
    chat, fake_cloud, django_capture_on_commit_callbacks
):
    data = sample_media.photo_jpeg()
    message = customer_sends(
        chat,
        "image",
        medium(fake_cloud, data, "image/jpeg", caption="The box"),
        capture=django_capture_on_commit_callbacks,
        text="The box",
    )

    created, updated = (
        DockEvent.objects.filter(membership=chat.agent, data__id=message.pk)
        .order_by("seq")
        .values_list("type", "data")
    )
    assert created[0] == EventType.MESSAGE_CREATED and created[1]["media"]["state"] == "pending"
    assert updated[0] == EventType.MESSAGE_UPDATED and updated[1]["media"]["state"] == "ready"
    assert updated[1]["text"] == "The box"


def test_a_download_that_fails_is_tried_again(
    chat, fake_cloud, django_capture_on_commit_callbacks, settings
):
    settings.MEDIA_DOWNLOAD_ATTEMPTS = 4
    fake_cloud.fail_downloads(2)
    message = customer_sends(
        chat,
        "image",
        medium(fake_cloud, sample_media.photo_jpeg(), "image/jpeg"),
        capture=django_capture_on_commit_callbacks,
    )

    message.refresh_from_db()
    assert message.media["state"] == "ready"
    assert len(fake_cloud.downloads) == 1  # the two failures served nothing


def test_a_download_that_keeps_failing_is_marked_and_nothing_is_kept(
    chat, fake_cloud, django_capture_on_commit_callbacks, settings
):
    settings.MEDIA_DOWNLOAD_ATTEMPTS = 3
    fake_cloud.fail_downloads(10)
    message = customer_sends(
        chat,
        "audio",
        medium(fake_cloud, sample_media.voice_ogg(), "audio/ogg", voice=True),
        capture=django_capture_on_commit_callbacks,
    )

    message.refresh_from_db()
    assert message.media["state"] == "failed"
    assert "after 3 attempts" in message.media["error"]
    assert "url" not in message.media and not message.file
    last = DockEvent.objects.filter(membership=chat.agent).latest("seq")
    assert (last.type, last.data["media"]["state"]) == (EventType.MESSAGE_UPDATED, "failed")


def test_a_file_whose_sha256_is_not_the_one_given_is_refused(
    chat, fake_cloud, django_capture_on_commit_callbacks
):
    sent = medium(fake_cloud, sample_media.document_pdf(), "application/pdf", filename="a.pdf")
    fake_cloud.wrong_sha256(sent["id"])
    message = customer_sends(chat, "document", sent, capture=django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.media["state"] == "failed"
    assert "sha256" in message.media["error"]
    assert not message.file
    kept = default_storage.listdir("messages")[1] if default_storage.exists("messages") else []
    assert not [name for name in kept if name.startswith(f"{message.pk}-")]


def test_a_file_larger_than_the_limit_is_a_card_and_is_not_downloaded(
    chat, fake_cloud, django_capture_on_commit_callbacks, settings
):
    settings.MEDIA_DOWNLOAD_MAX_BYTES = 1000
    message = customer_sends(
        chat,
        "document",
        medium(
            fake_cloud, sample_media.photo_jpeg(size=5000), "application/pdf", filename="big.pdf"
        ),
        capture=django_capture_on_commit_callbacks,
    )

    message.refresh_from_db()
    assert message.media["state"] == "not_kept"
    assert message.media["filename"] == "big.pdf"
    assert message.media["size"] == 5000
    assert fake_cloud.downloads == []


def test_a_type_whatsapp_does_not_list_is_a_card(
    chat, fake_cloud, django_capture_on_commit_callbacks
):
    message = customer_sends(
        chat,
        "document",
        medium(fake_cloud, b"PK\x03\x04zip", "application/zip", filename="photos.zip"),
        capture=django_capture_on_commit_callbacks,
    )

    message.refresh_from_db()
    assert (message.media["state"], message.media["filename"]) == ("not_kept", "photos.zip")
    assert "application/zip" in message.media["error"]
    assert fake_cloud.downloads == []


def test_a_url_in_the_delivery_is_never_kept(chat, fake_cloud, django_capture_on_commit_callbacks):
    sent = medium(fake_cloud, sample_media.photo_jpeg(), "image/jpeg")
    sent["url"] = "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"
    message = customer_sends(chat, "image", sent, capture=django_capture_on_commit_callbacks)

    message.refresh_from_db()
    assert message.media["url"] == f"/api/v1/media/{message.pk}/"
