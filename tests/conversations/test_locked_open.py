"""The open conversations a delivery writes into: found by any id WhatsApp gives for the
customer, and locked, so that a conversation closed meanwhile is never written into."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from conversations.locked_open import lock_open_conversations
from conversations.models import Conversation, ConversationStatus
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MembershipFactory


def _locked(channel, **keys) -> list[Conversation]:
    return lock_open_conversations(
        channel_id=channel.pk, organization_id=channel.organization_id, **keys
    )


@pytest.mark.django_db
def test_open_conversations_are_found_by_number_by_user_id_and_by_contact():
    channel = ChannelFactory()
    by_number, by_user, by_id, closed = (
        ConversationFactory(
            channel=channel,
            contact=ContactFactory(organization=channel.organization, user_id=f"US.{n}"),
        )
        for n in range(4)
    )
    closed.status = ConversationStatus.CLOSED
    closed.save()

    found = _locked(
        channel,
        wa_ids=[by_number.contact.wa_id, closed.contact.wa_id, "4470000000000"],
        user_ids=[by_user.contact.user_id],
        contact_ids=[by_id.contact_id],
    )

    assert [c.pk for c in found] == sorted([by_number.pk, by_user.pk, by_id.pk])
    assert {c.contact.wa_id for c in found} == {
        by_number.contact.wa_id,
        by_user.contact.wa_id,
        by_id.contact.wa_id,
    }
    assert _locked(channel) == []


@pytest.mark.django_db
def test_what_the_events_show_comes_with_the_conversation(django_assert_num_queries):
    agent = MembershipFactory()
    chat = ConversationFactory(agent=agent, organization=agent.organization)

    with django_assert_num_queries(1):
        [found] = _locked(chat.channel, contact_ids=[chat.contact_id])
        assert (found.contact.pk, found.project.pk) == (chat.contact_id, chat.project_id)
        assert found.agent.user.pk == agent.user_id


@pytest.mark.django_db(transaction=True)
def test_a_conversation_closed_while_waiting_for_its_lock_is_not_written_into():
    chat = ConversationFactory()
    closing, done = threading.Event(), threading.Event()
    found: list[list[Conversation]] = []

    def deliver() -> None:
        try:
            closing.wait(10)
            with transaction.atomic():
                found.append(_locked(chat.channel, contact_ids=[chat.contact_id]))
        finally:
            done.set()
            connection.close()

    delivery = threading.Thread(target=deliver)
    delivery.start()
    with transaction.atomic():
        Conversation.objects.select_for_update().filter(pk=chat.pk).update(
            status=ConversationStatus.CLOSED
        )
        closing.set()
        assert not done.wait(0.3), "the delivery waits for the conversation's lock"
    delivery.join(10)

    assert found == [[]]
