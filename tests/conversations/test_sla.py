"""The first-reply target: when its clock starts, what answers it, and a breach recorded
and announced exactly once however many sweeps, checks and replies race for it."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from uuid import uuid4

import pytest
from django.db import connection, transaction
from django.utils import timezone

from conversations import messaging
from conversations.events import EventType
from conversations.models import Conversation, DockEvent, Role
from conversations.sla import conversation_sla_breach, sla_breaches_sweep
from conversations.tasks import breach_sla
from routing.services import conversation_close
from tests.factories import ChannelFactory, ConversationFactory, MembershipFactory

TARGET = 120


@pytest.fixture
def desk():
    """An agent and a supervisor on a campaign whose first replies are due in two minutes."""
    agent = MembershipFactory(max_open=5)
    supervisor = MembershipFactory(organization=agent.organization, role=Role.SUPERVISOR)
    channel = ChannelFactory(
        organization=agent.organization, project__sla_first_reply_seconds=TARGET
    )
    agent.projects.set([channel.project])
    return agent, supervisor, channel


def customer_writes(channel, wa_id: str = "447700900555", *, at=None) -> None:
    messaging.delivery_record(
        channel=channel,
        messages=[
            messaging.InboundMessage(
                wamid=f"wamid.{uuid4().hex}",
                wa_id=wa_id,
                user_id=None,
                profile_name="Maria Lopez",
                sent_at=at or timezone.now(),
                type="text",
                text="Hello?",
            )
        ],
    )


def breaches() -> list[DockEvent]:
    return list(DockEvent.objects.filter(type=EventType.SLA_BREACHED).order_by("membership_id"))


def overdue_chat(agent, channel, *, seconds_late: int = 5):
    now = timezone.now()
    return ConversationFactory(
        channel=channel,
        agent=agent,
        last_inbound_at=now - timedelta(seconds=TARGET + seconds_late),
        sla_due_at=now - timedelta(seconds=seconds_late),
    )


@pytest.mark.django_db
def test_the_customers_first_message_starts_the_clock_and_later_ones_move_nothing(desk):
    _, _, channel = desk
    first = timezone.now().replace(microsecond=0) - timedelta(seconds=30)

    customer_writes(channel, at=first)
    customer_writes(channel, at=first + timedelta(seconds=20))

    chat = Conversation.objects.get()
    assert chat.first_inbound_at == first
    assert chat.sla_due_at == first + timedelta(seconds=TARGET)
    assert chat.first_reply_at is None and chat.sla_breached_at is None


@pytest.mark.django_db
def test_a_project_without_a_target_sets_no_deadline_but_the_clock_still_starts():
    channel = ChannelFactory(project__sla_first_reply_seconds=None)
    wrote = timezone.now() - timedelta(seconds=5)

    customer_writes(channel, at=wrote)

    chat = Conversation.objects.get()
    assert chat.sla_due_at is None
    assert chat.first_inbound_at == wrote


@pytest.mark.django_db
def test_the_first_reply_is_kept_and_a_later_one_moves_nothing(desk):
    agent, _, channel = desk
    chat = ConversationFactory(channel=channel, agent=agent, sla_due_at=timezone.now())
    # ``ConversationFactory`` opens it as if the customer had written just now.

    first = messaging.message_send_text(conversation=chat, sender=agent, text="Hi, Ana here")
    messaging.message_send_text(conversation=chat, sender=agent, text="How can I help?")

    chat.refresh_from_db()
    assert chat.first_reply_at == first.created_at


@pytest.mark.django_db
def test_an_answered_chat_is_never_breached(desk):
    agent, _, channel = desk
    chat = ConversationFactory(
        channel=channel, agent=agent, sla_due_at=timezone.now() + timedelta(seconds=60)
    )
    messaging.message_send_text(conversation=chat, sender=agent, text="On it")

    assert sla_breaches_sweep(now=timezone.now() + timedelta(minutes=5)) == 0
    assert breaches() == []


@pytest.mark.django_db
def test_an_unanswered_chat_past_its_deadline_is_breached_once_for_its_agent_and_supervisors(
    desk,
):
    agent, supervisor, channel = desk
    chat = overdue_chat(agent, channel)

    assert sla_breaches_sweep() == 1
    assert sla_breaches_sweep() == 0
    assert conversation_sla_breach(conversation_id=chat.pk) is False

    chat.refresh_from_db()
    assert chat.sla_breached_at is not None
    events = breaches()
    assert [e.membership_id for e in events] == sorted([agent.pk, supervisor.pk])
    data = events[0].data
    assert data["conversation"]["id"] == chat.pk
    assert data["conversation"]["sla_breached_at"] == data["breached_at"]
    assert data["due_at"] == chat.sla_due_at.isoformat()


@pytest.mark.django_db
def test_a_chat_not_due_yet_is_left_to_its_deadline(desk):
    agent, _, channel = desk
    chat = ConversationFactory(
        channel=channel, agent=agent, sla_due_at=timezone.now() + timedelta(seconds=30)
    )

    breach_sla.delay(chat.pk)  # as scheduled, had the worker run it too early
    assert sla_breaches_sweep() == 0

    chat.refresh_from_db()
    assert chat.sla_breached_at is None


@pytest.mark.django_db
def test_a_chat_closed_before_its_deadline_is_not_breached(desk):
    agent, _, channel = desk
    chat = ConversationFactory(
        channel=channel, agent=agent, sla_due_at=timezone.now() + timedelta(seconds=30)
    )
    conversation_close(conversation=chat, actor=agent, outcome="Wrong number")

    assert sla_breaches_sweep(now=timezone.now() + timedelta(minutes=1)) == 0


@pytest.mark.django_db
def test_a_late_first_reply_records_the_breach_the_sweep_had_not_and_only_once(desk):
    agent, _, channel = desk
    chat = overdue_chat(agent, channel)

    reply = messaging.message_send_text(conversation=chat, sender=agent, text="Sorry for the wait")

    chat.refresh_from_db()
    assert chat.first_reply_at == reply.created_at
    assert chat.sla_breached_at == reply.created_at
    assert sla_breaches_sweep() == 0
    assert len(breaches()) == 2  # one for the agent, one for the supervisor


def waiting_on_locks(count: int) -> None:
    """Wait until ``count`` other sessions wait for a row lock."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction the view is read once and kept unless told to forget.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"{count} sessions never waited for the lock")


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_publish_one_breach(desk):
    agent, supervisor, channel = desk
    chat = overdue_chat(agent, channel)
    recorded: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            recorded.append(sla_breaches_sweep())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # Both sweeps find the chat due, then meet at its row: held here until both wait.
    with transaction.atomic():
        Conversation.objects.select_for_update().get(pk=chat.pk)
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        waiting_on_locks(2)
    for thread in threads:
        thread.join(timeout=20)

    assert not errors, errors
    assert sorted(recorded) == [0, 1]
    assert [e.membership_id for e in breaches()] == sorted([agent.pk, supervisor.pk])


@pytest.mark.django_db(transaction=True)
def test_a_sweep_racing_a_late_reply_leaves_one_breach(desk):
    agent, _, channel = desk
    chat = overdue_chat(agent, channel)
    recorded: list[int] = []

    def sweep() -> None:
        try:
            recorded.append(sla_breaches_sweep())
        finally:
            connection.close()

    with transaction.atomic():
        Conversation.objects.select_for_update().get(pk=chat.pk)
        thread = threading.Thread(target=sweep)
        thread.start()
        waiting_on_locks(1)
        messaging.message_send_text(conversation=chat, sender=agent, text="Here now")
    thread.join(timeout=20)

    assert recorded == [0]
    assert len(breaches()) == 2
