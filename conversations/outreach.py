"""Reaching a customer first: a conversation the business opens, with a template.

WhatsApp takes only an approved template from a business the customer has not written to
in 24 hours, so a conversation opened this way starts with one
(``messaging.message_send_template``). Who takes it is routing's decision
(``routing.services.conversation_start``); this is the core's part: the customer and
their open conversation on the number, found or made."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.locked_open import lock_open_conversations
from conversations.models import (
    Channel,
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Rule,
)
from conversations.signals import request_routing


def conversation_open_outbound(
    *, channel: Channel, wa_id: str, actor: Membership
) -> tuple[Conversation, bool]:
    """The customer's open conversation on the channel, locked: the one they have, else a
    new queued one (routing is asked for it after commit). Returns it and whether it is
    new. In the caller's transaction; a customer writing in at the same instant meets the
    one-open-conversation constraint, and the conversation they opened is continued."""
    contact = _contact(channel=channel, wa_id=wa_id)
    held = lock_open_conversations(
        channel_id=channel.pk, organization_id=channel.organization_id, contact_ids=[contact.pk]
    )
    if held:
        return held[0], False
    now = timezone.now()
    try:
        with transaction.atomic():
            conversation = Conversation.objects.create(
                organization_id=channel.organization_id,
                project_id=channel.project_id,
                channel=channel,
                contact=contact,
                status=ConversationStatus.QUEUED,
                language=contact.language or channel.default_language,
                required_skills=list(channel.required_skills),
                created_at=now,
                queued_at=now,
            )
    except IntegrityError:
        held = lock_open_conversations(
            channel_id=channel.pk,
            organization_id=channel.organization_id,
            contact_ids=[contact.pk],
        )
        if not held:
            raise
        return held[0], False
    ConversationEvent.objects.create(
        conversation=conversation, kind=EventKind.OPENED, rule=Rule.SUPERVISOR, actor=actor
    )
    request_routing(organization_id=channel.organization_id)
    fresh = (
        Conversation.objects.select_related("contact", "project", "channel", "agent__user")
        .locked()
        .get(pk=conversation.pk)
    )
    return fresh, True


def _contact(*, channel: Channel, wa_id: str) -> Contact:
    """The organization's customer with this WhatsApp number, made if new."""
    Contact.objects.bulk_create(
        [Contact(organization_id=channel.organization_id, wa_id=wa_id)], ignore_conflicts=True
    )
    return Contact.objects.get(organization_id=channel.organization_id, wa_id=wa_id)
