"""The files of messages: a customer's, fetched from the channel after their message is
recorded, and an agent's, kept and sent through the outbox.

Inbound: a message with a file is recorded at once with ``media.state`` ``pending``
(``media_kinds.recorded_media``) and a download task is enqueued after commit. The task
(``media_download``) asks the channel where the file is, refuses a type the platform does
not list or a size beyond ``MEDIA_DOWNLOAD_MAX_BYTES`` (the message keeps a card: name,
type, size), streams the bytes into a temporary file while hashing them, compares the
sha256 the platform gave, and saves the file to the storage in chunks: a file is never
whole in memory. A failure that may pass (``MediaRetryLater``) is retried by the task with
a growing wait; after the last attempt, or at once for one that will not pass, the medium
is marked ``failed``. Each outcome is published as ``message.updated``.

Outbound: ``message_send_media`` checks the file against the platform's types and size
limits before anything is kept, saves it and queues the message (``messaging.message_queue``);
the send task uploads it and sends the message that names it.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import secrets
import tempfile
from base64 import b64encode
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from conversations import channels
from conversations.channels import MediaInfo, MediaUnavailable
from conversations.events import EventType, message_payload
from conversations.media_kinds import MediaState, media_url
from conversations.messaging import MAX_CAPTION_LENGTH, InvalidMessage, message_queue
from conversations.models import Conversation, Membership, Message
from conversations.realtime import publish

logger = logging.getLogger(__name__)

# Kinds WhatsApp shows without a caption.
NO_CAPTION = frozenset({"audio", "sticker"})
MAX_FILENAME = 200


class InvalidAttachment(ValueError):
    """The file cannot be sent as it is: a type or a size the platform does not take."""


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 ", " ")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _base_type(mime_type: str) -> str:
    return mime_type.split(";", 1)[0].strip().lower()


def _storage_name(*, message_id: int, mime_type: str) -> str:
    """A name nobody guesses (the storage is private anyway), with the type's extension."""
    extension = mimetypes.guess_extension(_base_type(mime_type)) or ""
    if _base_type(mime_type) == "audio/ogg":
        extension = ".ogg"
    return f"messages/{message_id}-{secrets.token_hex(8)}{extension}"


# --- inbound ----------------------------------------------------------------------------


def media_download(*, message_id: int, transport: channels.MediaTransport | None = None) -> None:
    """Fetch a customer's file and keep it, or say why it is not kept. Raises
    ``MediaRetryLater`` for the task to retry; anything else settles the message."""
    message = Message.objects.select_related("channel").filter(pk=message_id).first()
    if message is None or message.media.get("state") != MediaState.PENDING:
        return  # another task kept it already, or nothing is owed
    transport = transport or channels.media_transport_for(kind=message.channel.kind)
    try:
        info = transport.media_info(channel=message.channel, media_id=str(message.media["id"]))
        mime_type = info.mime_type or str(message.media.get("mime_type") or "")
        size = info.file_size
        known = {"mime_type": mime_type, **({"size": size} if size is not None else {})}
        limit = settings.MEDIA_DOWNLOAD_MAX_BYTES
        if transport.media_rule(mime_type=mime_type) is None:
            why = f"{_base_type(mime_type) or 'this type'} is not a type WhatsApp lists"
            _settle(message_id, {**known, "state": MediaState.NOT_KEPT.value, "error": why})
            return
        if size is not None and size > limit:
            why = f"larger than {human_size(limit)}: not downloaded"
            _settle(message_id, {**known, "state": MediaState.NOT_KEPT.value, "error": why})
            return
        name, size = _fetch(transport, message, info, limit=limit)
    except MediaUnavailable as exc:
        media_fail(message_id=message_id, reason=str(exc))
        return
    _settle(
        message_id,
        {"mime_type": mime_type, "size": size, "state": MediaState.READY.value},
        file_name=name,
    )


def _fetch(
    transport: channels.MediaTransport, message: Message, info: MediaInfo, *, limit: int
) -> tuple[str, int]:
    """Stream the bytes into a temporary file, check them, and save them to the storage in
    chunks; returns the stored name and the size."""
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        with transport.media_bytes(channel=message.channel, info=info) as chunks:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise MediaUnavailable(f"larger than {human_size(limit)}")
                digest.update(chunk)
                spool.write(chunk)
        if info.sha256 and not _same_digest(digest.digest(), info.sha256):
            raise MediaUnavailable("refused: its sha256 is not the one WhatsApp gave")
        spool.seek(0)
        name = default_storage.save(
            _storage_name(message_id=message.pk, mime_type=info.mime_type), File(spool)
        )
    return name, size


def _same_digest(digest: bytes, expected: str) -> bool:
    """The platform writes a sha256 in hex (``GET /<media-id>``) or base64 (webhooks)."""
    expected = expected.strip()
    return expected.lower() == digest.hex() or expected == b64encode(digest).decode()


def media_fail(*, message_id: int, reason: str) -> None:
    """The file could not be downloaded: the message says so (the dock shows it)."""
    logger.warning("media not downloaded", extra={"message_id": message_id, "reason": reason})
    _settle(message_id, {"state": MediaState.FAILED.value, "error": reason[:500]})


def _settle(message_id: int, changes: dict[str, Any], *, file_name: str = "") -> None:
    """Write a download's outcome if the medium is still owed, and tell the agent. A file
    kept by a task that lost the race to another is deleted."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.media.get("state") != MediaState.PENDING:
            if file_name:
                transaction.on_commit(lambda: default_storage.delete(file_name))
            return
        message.media = {**message.media, **changes}
        fields = ["media"]
        if file_name:
            message.file.name = file_name
            message.media["url"] = media_url(message.pk)
            fields.append("file")
        message.save(update_fields=fields)
        agent = message.conversation.agent_id
        if agent is not None:
            publish(EventType.MESSAGE_UPDATED, message_payload(message), to=[agent])


# --- outbound ---------------------------------------------------------------------------


def message_send_media(
    *, conversation: Conversation, sender: Membership, upload: UploadedFile, caption: str = ""
) -> Message:
    """Check an agent's file against what the platform takes, keep it and queue it with its
    caption; the send task uploads it to the platform and sends it. Nothing is kept when
    the file or the caption is refused, or the conversation takes no reply."""
    filename = (upload.name or "file").rsplit("/", 1)[-1][-MAX_FILENAME:] or "file"
    mime_type = _base_type(upload.content_type or "")
    if not mime_type or mime_type == "application/octet-stream":
        mime_type = _base_type(mimetypes.guess_type(filename)[0] or "")
    transport = channels.media_transport_for(kind=conversation.channel.kind)
    rule = transport.media_rule(mime_type=mime_type)
    if rule is None:
        raise InvalidAttachment(
            f"WhatsApp does not take {mime_type or 'this kind of'} files: send a JPEG or PNG "
            "image, an MP4 or 3GP video, an AAC, AMR, MP3, M4A or OGG (Opus) audio, a WebP "
            "sticker, or a PDF, text, Word, Excel or PowerPoint document"
        )
    size = upload.size or 0
    if size == 0:
        raise InvalidAttachment("the file is empty")
    if size > rule.max_bytes:
        raise InvalidAttachment(
            f"WhatsApp takes a {rule.kind} of at most {human_size(rule.max_bytes)}; "
            f"this file is {human_size(size)}"
        )
    text = caption.strip()
    if text and rule.kind in NO_CAPTION:
        raise InvalidMessage(
            f"WhatsApp shows no caption with {'an audio' if rule.kind == 'audio' else 'a sticker'}"
        )
    if len(text) > MAX_CAPTION_LENGTH:
        raise InvalidMessage(f"a WhatsApp caption has at most {MAX_CAPTION_LENGTH} characters")
    name = default_storage.save(
        f"messages/out-{secrets.token_hex(8)}{_extension(filename, mime_type)}", upload
    )
    try:
        return message_queue(
            conversation=conversation,
            sender=sender,
            kind=rule.kind,
            text=text,
            media={
                "mime_type": mime_type,
                "filename": filename,
                "size": size,
                "state": MediaState.READY.value,
            },
            file_name=name,
        )
    except BaseException:
        default_storage.delete(name)
        raise


def _extension(filename: str, mime_type: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix.isalnum() and len(suffix) <= 5:
        return f".{suffix}"
    return mimetypes.guess_extension(mime_type) or ""
