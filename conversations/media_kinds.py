"""What a message's ``media`` says of its file: which message types carry one, the states
a customer's file goes through, and the one address the API serves every file from.

``media`` keeps what the channel said of the file (its ``id`` there, ``mime_type``,
``sha256``, ``caption``, ``filename``, ``voice``) and adds our own keys:

- ``state``: ``pending`` (recorded; its download is owed), ``ready`` (kept: ``url`` serves
  it), ``failed`` (could not be downloaded; ``error`` says why) or ``not_kept`` (too large,
  or a type the platform does not list: shown as a card with its name and type);
- ``url``: ``/api/v1/media/<message id>/`` once the file is kept, never the platform's;
- ``size``: its bytes, when known; ``error``: why it is not there.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
# The task that downloads a customer's file (by message id), named: it imports the services.
DOWNLOAD_TASK = "conversations.tasks.download_media"
# Ours alone: a delivery's own keys of these names are dropped.
OWN_KEYS = frozenset({"state", "url", "size", "error"})


class MediaState(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"
    NOT_KEPT = "not_kept"


def media_url(message_id: int) -> str:
    """Where the API serves a message's file (CONTRACT: ``media/<id>/``)."""
    return f"/api/v1/media/{message_id}/"


def recorded_media(kind: str, media: dict[str, Any]) -> dict[str, Any]:
    """A customer's ``media`` as it is recorded: the platform's keys, and a download owed
    when the message carries a file the platform holds."""
    if kind not in MEDIA_TYPES:
        return media
    kept = {key: value for key, value in media.items() if key not in OWN_KEYS}
    if isinstance(kept.get("id"), str) and kept["id"]:
        kept["state"] = MediaState.PENDING.value
    return kept
