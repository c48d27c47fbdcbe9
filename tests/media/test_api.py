"""``media/<id>/`` serves a kept file only to people who may read its conversation, and
the messages endpoint takes an attachment, checked before it is kept, uploaded to the
Cloud API by the send task and then sent by its id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from rest_framework.test import APIClient

from channels_whatsapp import sample_media
from conversations.models import Message
from tests.api.conftest import token_client
from tests.factories import MessageFactory
from tests.media.conftest import kept_file, sha256

pytestmark = pytest.mark.django_db

PDF = sample_media.document_pdf()
JPEG = sample_media.photo_jpeg()


def body(response) -> bytes:
    assert isinstance(response, FileResponse) and response.streaming
    return b"".join(cast(Iterator[bytes], response.streaming_content))


def test_the_agent_gets_a_document_to_download_with_its_name(ours):
    message = kept_file(ours.mine, "document", PDF, "application/pdf", "delivery note.pdf")

    response = token_client(ours.agent).get(message.media["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="delivery note.pdf"'
    assert "sandbox" in response["Content-Security-Policy"]
    assert sha256(body(response)) == sha256(PDF)


def test_a_photo_shows_inline(ours):
    message = kept_file(ours.mine, "image", JPEG, "image/jpeg")

    response = token_client(ours.supervisor).get(message.media["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert body(response) == JPEG


def test_another_organization_gets_404(ours, others):
    message = kept_file(ours.mine, "image", JPEG, "image/jpeg")

    assert token_client(others.admin).get(message.media["url"]).status_code == 404


def test_an_agent_who_does_not_have_the_chat_gets_404(ours):
    message = kept_file(ours.mine, "image", JPEG, "image/jpeg")

    assert token_client(ours.colleague).get(message.media["url"]).status_code == 404


def test_without_credentials_nothing_is_served(ours, client):
    message = kept_file(ours.mine, "image", JPEG, "image/jpeg")

    assert APIClient().get(message.media["url"]).status_code in (401, 403)
    assert client.get(message.media["url"]).status_code in (401, 403)


def test_a_file_not_kept_is_404(ours):
    message = MessageFactory(
        conversation=ours.mine, type="image", media={"id": "1", "state": "pending"}
    )

    assert token_client(ours.agent).get(f"/api/v1/media/{message.pk}/").status_code == 404


# --- sending ------------------------------------------------------------------------------


def attach(client, conversation, upload, text: str | None = None):
    data = {"file": upload, **({"text": text} if text is not None else {})}
    return client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", data, format="multipart"
    )


def test_an_attachment_is_uploaded_then_sent_by_its_id(
    chat, fake_cloud, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = attach(
            token_client(chat.agent),
            chat,
            SimpleUploadedFile("delivery-note.pdf", PDF, content_type="application/pdf"),
            text="Here is the note",
        )

    assert response.status_code == 201, response.json()
    message = Message.objects.get(pk=response.json()["id"])
    assert (message.type, message.text, message.status) == ("document", "Here is the note", "sent")
    [upload] = fake_cloud.uploads
    assert (upload["filename"], upload["mime_type"]) == ("delivery-note.pdf", "application/pdf")
    assert upload["sha256"] == sha256(PDF)
    [sent] = fake_cloud.sent
    assert sent["body"]["type"] == "document"
    assert sent["body"]["document"] == {
        "id": upload["id"],
        "caption": "Here is the note",
        "filename": "delivery-note.pdf",
    }
    assert message.media["url"] == f"/api/v1/media/{message.pk}/"
    assert body(token_client(chat.agent).get(message.media["url"])) == PDF


def test_an_upload_the_cloud_api_cannot_take_now_is_retried_by_the_outbox(
    chat, fake_cloud, django_capture_on_commit_callbacks
):
    fake_cloud.fail_next(1, status=503, code=131016)
    with django_capture_on_commit_callbacks(execute=True):
        response = attach(
            token_client(chat.agent),
            chat,
            SimpleUploadedFile("parcel.jpg", JPEG, content_type="image/jpeg"),
        )

    message = Message.objects.get(pk=response.json()["id"])
    assert message.status == "sent"
    assert [s["body"]["image"]["id"] for s in fake_cloud.sent] == [
        u["id"] for u in fake_cloud.uploads
    ]


def stored() -> set[str]:
    return (
        set(default_storage.listdir("messages")[1]) if default_storage.exists("messages") else set()
    )


@pytest.mark.parametrize(
    ("upload", "why"),
    [
        (
            SimpleUploadedFile("photos.zip", b"PK\x03\x04", content_type="application/zip"),
            "does not take",
        ),
        (
            SimpleUploadedFile(
                "big.jpg", b"\xff" * (5 * 1024 * 1024 + 1), content_type="image/jpeg"
            ),
            "at most 5 MB",
        ),
        (SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf"), "empty"),
    ],
)
def test_a_file_whatsapp_does_not_take_is_refused_naming_file(chat, upload, why):
    before = stored()
    response = attach(token_client(chat.agent), chat, upload)

    assert response.status_code == 400
    assert why in response.json()["file"][0]
    assert not Message.objects.filter(conversation=chat, direction="out").exists()
    assert stored() == before


def test_a_voice_note_takes_no_caption(chat):
    upload = SimpleUploadedFile("voice.ogg", sample_media.voice_ogg(), content_type="audio/ogg")

    response = attach(token_client(chat.agent), chat, upload, text="listen")

    assert response.status_code == 400 and "caption" in response.json()["text"][0]


def test_an_attachment_without_a_file_is_refused_naming_file(chat):
    response = token_client(chat.agent).post(
        f"/api/v1/conversations/{chat.pk}/messages/", {"text": "hi"}, format="multipart"
    )

    assert response.status_code == 400 and "file" in response.json()
