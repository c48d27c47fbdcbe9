"""The open conversations a delivery writes into: found by any id WhatsApp gives for the
customer, and on PostgreSQL by a statement whose text is the same for one customer or
two hundred, so psycopg converts it once and PostgreSQL keeps its plan."""

from __future__ import annotations

import pytest
from django.db import connection

from conversations.locked_open import lock_open_conversations
from conversations.models import ConversationStatus
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory


def _locked(channel, **keys):
    """The conversations found, and the text of each statement sent to find them."""
    sent: list[str] = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        found = lock_open_conversations(
            channel_id=channel.pk, organization_id=channel.organization_id, **keys
        )
    return found, sent


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

    found, _ = _locked(
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
    assert _locked(channel)[0] == []


@pytest.mark.django_db
def test_the_statement_does_not_grow_with_the_customers_it_names():
    channel = ChannelFactory()
    chats = [ConversationFactory(channel=channel) for _ in range(3)]
    numbers = [chat.contact.wa_id for chat in chats]

    one, (one_sql,) = _locked(channel, wa_ids=numbers[:1])
    many, (many_sql,) = _locked(channel, wa_ids=[*numbers, *(f"44{n:09d}" for n in range(200))])

    assert [c.pk for c in one] == [chats[0].pk]
    assert [c.pk for c in many] == [chat.pk for chat in chats]
    assert one_sql == many_sql
