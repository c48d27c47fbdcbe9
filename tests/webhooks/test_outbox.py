"""The outbox: an event is kept for a subscription in the transaction of the change it
reports, and only for the subscriptions of its organization that want its type."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from conversations import realtime
from conversations.events import EventType, conversation_payload
from conversations.messaging import message_send_text
from tests.factories import ConversationFactory, MembershipFactory
from webhooks import services
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

SECRET = "a-long-shared-secret-0123456789"


@pytest.fixture
def chat():
    agent = MembershipFactory()
    return ConversationFactory(
        channel__organization=agent.organization, agent=agent, last_inbound_at=timezone.now()
    )


def subscribe(organization, events):
    return services.subscription_create(
        organization=organization, url="https://crm.example.test/hook", events=events, secret=SECRET
    )


def test_a_reply_sent_keeps_its_event_for_the_subscription(chat):
    subscription = subscribe(chat.organization, ["message.created"])
    message = message_send_text(conversation=chat, sender=chat.agent, text="On its way.")
    kept = WebhookEvent.objects.get(subscription=subscription)
    assert kept.type == "message.created" and kept.data["id"] == message.pk


def test_a_change_that_rolls_back_keeps_no_event(chat):
    subscribe(chat.organization, ["conversation.updated"])

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        realtime.publish(
            EventType.CONVERSATION_UPDATED,
            conversation_payload(chat),
            to=[chat.agent_id],
        )
        assert WebhookEvent.objects.count() == 1  # in the same transaction
        raise Undo
    assert WebhookEvent.objects.count() == 0


def test_only_the_organizations_subscriptions_for_that_type_keep_it(chat):
    wanted = subscribe(chat.organization, ["conversation.updated"])
    subscribe(chat.organization, ["conversation.closed"])
    elsewhere = MembershipFactory()
    subscribe(elsewhere.organization, ["conversation.updated"])
    inactive = subscribe(chat.organization, ["conversation.updated"])
    services.subscription_update(subscription=inactive, active=False)
    # An event for the agent alone names no organization: it is found from the agent.
    realtime.publish(EventType.CONVERSATION_UPDATED, conversation_payload(chat), to=[chat.agent_id])
    assert list(WebhookEvent.objects.values_list("subscription", flat=True)) == [wanted.pk]


def test_publishing_with_no_subscription_costs_one_query(chat, django_assert_num_queries):
    with django_assert_num_queries(2):  # the dock's statement and the subscriptions' read
        realtime.publish(
            EventType.CONVERSATION_UPDATED, conversation_payload(chat), to=[chat.agent_id]
        )
