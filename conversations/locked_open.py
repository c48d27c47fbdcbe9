"""The open conversations a delivery writes into, locked."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q

from conversations.models import Contact, Conversation, ConversationStatus


def lock_open_conversations(
    *,
    channel_id: int,
    organization_id: int,
    contact_ids: Collection[int] = (),
    wa_ids: Collection[str] = (),
    user_ids: Collection[str] = (),
) -> list[Conversation]:
    """The open (queued or assigned) conversations on the channel of the contacts named by
    id, WhatsApp id or WhatsApp user id, oldest first, locked until the caller's
    transaction ends, with contact, project and agent (and the agent's user) loaded: the
    events a delivery publishes show them.

    The customers are found by the unique ids of the organization's contacts, then their
    open conversations, so the plan holds whatever the planner's statistics say (fresh
    tables have none). The lock is ``FOR NO KEY UPDATE``: the counts change, no key does,
    so inserting a message that points at the conversation is not held up by it."""
    named = Q()
    for lookup, values in (
        ("pk__in", contact_ids),
        ("wa_id__in", wa_ids),
        ("user_id__in", user_ids),
    ):
        if values:
            named |= Q(**{lookup: list(values)})
    if not named:
        return []
    customers = Contact.objects.filter(named, organization_id=organization_id).values("pk")
    return list(
        Conversation.objects.select_for_update(of=("self",), no_key=True)
        .select_related("contact", "project", "agent__user")
        .filter(channel_id=channel_id, contact__in=customers)
        .exclude(status=ConversationStatus.CLOSED)
        .order_by("pk")
    )
