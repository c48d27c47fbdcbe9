"""What the database itself refuses, whatever Python code tries."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from conversations.models import Conversation, ConversationStatus, Membership, Message
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db


def test_a_second_open_conversation_for_the_same_contact_and_channel_is_refused():
    first = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(
            organization=first.organization,
            project=first.project,
            channel=first.channel,
            contact=first.contact,
        )


def test_a_closed_conversation_does_not_block_a_new_one():
    first = ConversationFactory(status=ConversationStatus.CLOSED)
    second = Conversation.objects.create(
        organization=first.organization,
        project=first.project,
        channel=first.channel,
        contact=first.contact,
    )
    assert second.status == ConversationStatus.QUEUED


def test_the_same_contact_may_have_open_conversations_on_two_channels():
    first = ConversationFactory()
    other_channel = ChannelFactory(organization=first.organization, project=first.project)
    ConversationFactory(channel=other_channel, contact=first.contact)
    assert Conversation.objects.filter(contact=first.contact).count() == 2


def test_a_message_id_from_whatsapp_is_stored_once_per_channel():
    message = MessageFactory(wamid="wamid.SAME")
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(conversation=message.conversation, wamid="wamid.SAME")
    MessageFactory(wamid="wamid.SAME")  # another channel may see the same id


def test_max_open_cannot_go_below_zero_even_through_a_bulk_update():
    member = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=member.pk).update(max_open=-1)


def test_an_assigned_conversation_must_name_its_agent():
    conversation = ConversationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.ASSIGNED)


def test_a_queued_conversation_cannot_keep_an_agent():
    agent = MembershipFactory()
    conversation = ConversationFactory(agent=agent, channel__organization=agent.organization)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.QUEUED)


def test_a_contact_needs_a_phone_number_or_a_user_id():
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(wa_id=None, user_id=None)
    assert ContactFactory(wa_id=None, user_id="US.13491208655302741918").pk
    assert Message.objects.count() == 0
