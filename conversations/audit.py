"""The record of who changed a member through the API or the board.

Conversation actions are audited as ``ConversationEvent`` and presence changes as
``PresenceChange`` by their services; a member's settings have no history of their own,
so their changes go to the admin's log, where the member's "History" shows them."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType

from conversations.models import Membership


def member_changed(*, actor: Membership, member: Membership, changes: dict[str, Any]) -> None:
    if not changes:
        return
    shown = {
        field: ("(changed)" if field == "password" else _plain(value))
        for field, value in changes.items()
    }
    LogEntry.objects.create(
        user_id=actor.user_id,
        content_type=ContentType.objects.get_for_model(Membership),
        object_id=str(member.pk),
        object_repr=str(member)[:200],
        action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"fields": sorted(shown)}}, {"values": shown}]),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return value
