"""Event webhooks end to end: a real Celery worker delivers what the services publish to
real HTTP receivers in this process."""

from __future__ import annotations

import time

import pytest

from conversations import realtime
from conversations.events import (
    DATA_SHAPES,
    ConversationData,
    EventType,
    MessageData,
    PresenceData,
    conversation_payload,
    message_payload,
    presence_payload,
)
from tests.celery_worker import celery_worker, wait_until  # noqa: F401
from tests.factories import ConversationFactory, MembershipFactory, MessageFactory
from tests.webhooks.receiver import Receiver, receiver  # noqa: F401
from webhooks import services
from webhooks.models import DeliveryAttempt, EventState, WebhookEvent

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "a-long-shared-secret-0123456789"


@pytest.fixture
def celery_worker_env():
    return {
        "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
        "WEBHOOK_RETRY_BASE_SECONDS": "0",
        "WEBHOOK_RETRY_MAX_SECONDS": "1",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "WEBHOOK_PAUSE_AFTER_FAILURES": "4",
    }


@pytest.fixture(autouse=True)
def _private_receivers(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


def subscribe(admin, url, events=None):
    return services.subscription_create(
        organization=admin.organization,
        url=url,
        events=events or [t.value for t in EventType],
        secret=SECRET,
        created_by=admin,
    )


def sample_data(event_type, conversation):
    """Data of the right shape for any type of the catalogue; a shape this test does not
    know yet still travels (publishing does not read it)."""
    shape = DATA_SHAPES.get(event_type)
    if shape is ConversationData:
        return conversation_payload(conversation)
    if shape is MessageData:
        return message_payload(MessageFactory(conversation=conversation))
    if shape is PresenceData:
        return presence_payload(member_id=conversation.agent_id, presence=None)
    return {"conversation": conversation.pk, "type": event_type.value}


PRESENCE = EventType.PRESENCE_CHANGED.value


def conversation_of(event):
    data = event["data"]
    return data.get("conversation", data.get("id"))


def publish(event_type, data, conversation):
    realtime.publish(
        event_type, data, to=[conversation.agent_id], supervisors_of=conversation.organization_id
    )


def test_every_event_type_arrives_signed_once_per_subscription_in_order(
    celery_worker,  # noqa: F811
    receiver,  # noqa: F811
):
    agent = MembershipFactory()
    admin = MembershipFactory(organization=agent.organization, role="admin", max_open=0)
    first = ConversationFactory(channel__organization=agent.organization, agent=agent)
    second = ConversationFactory(channel=first.channel, agent=agent)
    subscribe(admin, f"{receiver.url}/one")
    subscribe(admin, f"{receiver.url}/two")
    other_org_admin = MembershipFactory(role="admin", max_open=0)
    subscribe(other_org_admin, f"{receiver.url}/elsewhere")

    published = []
    for event_type in EventType:  # the whole catalogue, whatever it holds now
        for conversation in (first, second):
            publish(event_type, sample_data(event_type, conversation), conversation)
            published.append((event_type.value, conversation.pk))

    for path in ("/one", "/two"):
        wait_until(lambda p=path: len(receiver.at(p)) >= len(published), timeout=60)
    time.sleep(0.5)  # anything sent twice would have arrived by now
    for path in ("/one", "/two"):
        got = receiver.at(path)
        assert len(got) == len(published), "each event once per subscription"
        assert all(r.signed_with(SECRET) for r in got)
        assert {r.event["type"] for r in got} == {t.value for t in EventType}
        assert len({r.event["id"] for r in got}) == len(published)
        assert {"id", "type", "created_at", "data"} == set(got[0].event)
        for conversation in (first, second):
            # Presence events name the member, not a conversation.
            expected = [t for t, pk in published if pk == conversation.pk and t != PRESENCE]
            arrived = [
                r.event["type"]
                for r in got
                if r.event["type"] != PRESENCE and conversation_of(r.event) == conversation.pk
            ]
            assert arrived == expected, "in order per conversation"
    assert receiver.at("/elsewhere") == [], "another organization hears nothing"
    assert not WebhookEvent.objects.exclude(state=EventState.DELIVERED).exists()


def test_a_receiver_failing_three_times_then_answering_gets_the_event_exactly_once_more(
    celery_worker,  # noqa: F811
    receiver,  # noqa: F811
):
    conversation = ConversationFactory(agent=MembershipFactory())
    admin = MembershipFactory(organization=conversation.organization, role="admin", max_open=0)
    subscription = services.subscription_create(
        organization=admin.organization,
        url=f"{receiver.url}/flaky",
        events=["conversation.updated"],
        secret=SECRET,
    )
    receiver.statuses["/flaky"] = [500, 500, 500]
    publish(EventType.CONVERSATION_UPDATED, conversation_payload(conversation), conversation)

    wait_until(lambda: len(receiver.at("/flaky")) >= 4, timeout=60)
    time.sleep(1.5)
    got = receiver.at("/flaky")
    assert len(got) == 4
    assert len({r.event["id"] for r in got}) == 1
    attempts = list(
        DeliveryAttempt.objects.filter(event__subscription=subscription).order_by("attempted_at")
    )
    assert [a.status_code for a in attempts] == [500, 500, 500, 200]
    assert attempts[-1].succeeded and attempts[-1].response_excerpt == "answered 200"
    assert all(a.latency_ms >= 0 for a in attempts)


def test_a_receiver_that_hangs_does_not_delay_another_receivers_events(
    celery_worker,  # noqa: F811
    receiver,  # noqa: F811
):
    conversation = ConversationFactory(agent=MembershipFactory())
    admin = MembershipFactory(organization=conversation.organization, role="admin", max_open=0)
    subscribe(admin, f"{receiver.url}/hangs")
    subscribe(admin, f"{receiver.url}/quick")
    receiver.hang["/hangs"] = 30.0

    sent = time.monotonic()
    for _ in range(5):
        publish(EventType.CONVERSATION_UPDATED, conversation_payload(conversation), conversation)
    wait_until(lambda: len(receiver.at("/quick")) >= 5, timeout=20, interval=0.05)
    quick_done = max(r.at for r in receiver.at("/quick")) - sent

    # The hanging receiver was sent its first event, and is still holding it: the worker
    # waits up to its timeout (2 s here) on it while the other receiver gets all five.
    assert len(receiver.at("/hangs")) >= 1
    assert quick_done < 1.5, f"the quick receiver waited {quick_done:.2f} s"


def test_a_subscription_failing_its_threshold_is_paused_and_says_why(
    celery_worker,  # noqa: F811
    receiver,  # noqa: F811
):
    conversation = ConversationFactory(agent=MembershipFactory())
    admin = MembershipFactory(organization=conversation.organization, role="admin", max_open=0)
    subscription = subscribe(admin, f"{receiver.url}/broken", ["conversation.updated"])
    receiver.statuses["/broken"] = [503] * 20
    publish(EventType.CONVERSATION_UPDATED, conversation_payload(conversation), conversation)

    def paused() -> bool:
        """the subscription is paused"""
        subscription.refresh_from_db()
        return not subscription.active

    wait_until(paused, timeout=60)
    assert subscription.paused_at is not None
    assert "4 failed deliveries in a row" in subscription.pause_reason
    assert "answered 503" in subscription.pause_reason
    time.sleep(1.5)
    assert len(receiver.at("/broken")) == 4, "a paused subscription is sent nothing more"

    receiver.statuses["/broken"] = []
    services.subscription_update(subscription=subscription, active=True)
    wait_until(lambda: len(receiver.at("/broken")) == 5, timeout=60)
    subscription.refresh_from_db()
    assert subscription.pause_reason == "" and subscription.consecutive_failures == 0
