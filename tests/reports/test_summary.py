"""The summary report over a seeded month, checked against figures worked out by hand
from the seed's own records (plain Python, not the report's SQL)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from conversations import messaging
from conversations.models import Conversation, Direction, EventKind, Role
from reports.periods import BadParameter, Period, period_from
from reports.summary import report_summary, summary_csv
from tests.factories import ChannelFactory, MembershipFactory
from tests.reports.conftest import APRIL, MARCH, SLA_SECONDS, Chat, Month

pytestmark = pytest.mark.django_db


def percentile(values: list[float], share: float) -> float:
    """Linear interpolation between the closest ranks, as ``percentile_cont``."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def first_reply_seconds(chat: Chat) -> float | None:
    inbound = sorted(at for d, at in chat.messages if d == Direction.IN)
    if not inbound:
        return None
    replies = sorted(at for d, at in chat.messages if d == Direction.OUT and at >= inbound[0])
    return (replies[0] - inbound[0]).total_seconds() if replies else None


def report(month: Month, **kwargs):
    return report_summary(
        member=month.supervisor,
        period=kwargs.pop("period", Period(MARCH, APRIL)),
        project_id=kwargs.pop("project_id", None),
        agent_id=kwargs.pop("agent_id", None),
    )


def test_an_agents_first_reply_p90_is_the_hand_worked_one(month):
    ben = month.agents[1]
    replies = [
        s
        for chat in month.chats
        if chat.agent == ben and (s := first_reply_seconds(chat)) is not None
    ]

    figures = report(month, agent_id=ben.pk)

    assert figures["first_reply_p90_seconds"] == pytest.approx(percentile(replies, 0.9), abs=0.1)
    assert figures["conversations"] == sum(1 for c in month.chats if c.agent == ben)
    [row] = figures["agents"]
    assert row["agent"] == ben.pk and row["email"] == "ben@reports.test"


def test_one_days_sla_met_share_is_the_hand_worked_one(month):
    day = date(2026, 3, 10)
    decided = []
    for chat in month.chats:
        if chat.created_at.date() != day or chat.project != month.with_sla:
            continue
        seconds = first_reply_seconds(chat)
        if seconds is not None:
            decided.append(seconds <= SLA_SECONDS)
            continue
        # Every seeded chat's deadline passed long ago: unanswered is missed, unless the
        # chat was closed before its deadline (it was never breached).
        due = min(at for d, at in chat.messages if d == Direction.IN) + timedelta(
            seconds=SLA_SECONDS
        )
        if chat.closed_at is None or chat.closed_at > due:
            decided.append(False)

    [that_day] = [d for d in report(month)["by_day"] if d["date"] == day]

    assert decided, "the seed has chats with a target that day"
    assert that_day["sla_met_share"] == pytest.approx(sum(decided) / len(decided), abs=1e-4)


def test_the_projects_handle_median_and_transfers_are_the_hand_worked_ones(month):
    handled, transfers = [], 0
    for chat in month.chats:
        if chat.project != month.with_sla:
            continue
        transfers += sum(1 for kind, _ in chat.events if kind == EventKind.TRANSFERRED)
        if chat.closed_at:
            first_assigned = min(at for kind, at in chat.events if kind == EventKind.ASSIGNED)
            handled.append((chat.closed_at - first_assigned).total_seconds())

    figures = report(month, project_id=month.with_sla.pk)

    assert figures["handle_p50_seconds"] == pytest.approx(percentile(handled, 0.5), abs=0.1)
    assert figures["transfers"] == transfers


def test_the_totals_add_up_and_the_series_cover_the_period(month):
    figures = report(month)

    assert figures["conversations"] == len(month.chats)
    assert figures["messages_in"] == sum(
        1 for c in month.chats for d, _ in c.messages if d == Direction.IN
    )
    assert figures["messages_out"] == sum(
        1 for c in month.chats for d, _ in c.messages if d == Direction.OUT
    )
    assert sum(a["conversations"] for a in figures["agents"]) == len(month.chats)
    assert [h["hour"] for h in figures["by_hour"]] == list(range(24))
    assert sum(h["conversations"] for h in figures["by_hour"]) == len(month.chats)
    assert len(figures["by_day"]) == 31
    answered = sum(1 for c in month.chats if first_reply_seconds(c) is not None)
    assert sum(b["conversations"] for b in figures["first_reply_distribution"]) == answered


def test_a_conversation_opened_just_before_the_period_is_not_in_it(month):
    first = min(c.created_at for c in month.chats)

    figures = report(month, period=Period(first + timezone.timedelta(microseconds=1), APRIL))

    assert figures["conversations"] == len(month.chats) - 1


def test_an_empty_period_has_zeros_and_no_medians(month):
    figures = report(month, period=Period(APRIL, datetime(2026, 4, 2, tzinfo=UTC)))

    assert figures["conversations"] == 0
    assert figures["first_reply_p50_seconds"] is None
    assert figures["sla_met_share"] is None
    assert figures["agents"] == []


def test_the_csv_has_a_line_for_all_and_one_per_agent(month):
    text = summary_csv(report(month))
    lines = text.strip().split("\r\n")

    assert lines[0].startswith("scope,agent,email,conversations,messages_in")
    assert lines[1].startswith(f"all,,,{len(month.chats)},")
    assert any(line.startswith(f"agent,{month.agents[0].pk},ana@reports.test,") for line in lines)


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "param"),
    [
        ("yesterday", None, "from"),
        ("2026-03-10", "2026-03-01", "to"),
        ("2024-01-01", "2026-01-01", "to"),
        ("2026-02-30", None, "from"),
        (None, "0001-01-01", "to"),
    ],
)
def test_a_bad_period_names_its_parameter(raw_from, raw_to, param):
    with pytest.raises(BadParameter) as refused:
        period_from(raw_from, raw_to)
    assert refused.value.param == param


def test_a_date_is_local_midnight_and_to_is_exclusive(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    timezone.activate("Europe/Berlin")
    try:
        period = period_from("2026-03-01", "2026-03-02")
    finally:
        timezone.deactivate()
    assert period.start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 1, 23, tzinfo=UTC)


def test_a_chat_answered_through_the_dock_is_reported_as_the_core_recorded_it():
    agent = MembershipFactory(max_open=5)
    supervisor = MembershipFactory(organization=agent.organization, role=Role.SUPERVISOR)
    channel = ChannelFactory(
        organization=agent.organization, project__sla_first_reply_seconds=SLA_SECONDS
    )
    wrote = timezone.now() - timedelta(seconds=50)
    messaging.delivery_record(
        channel=channel,
        messages=[
            messaging.InboundMessage(
                wamid="wamid.report-1",
                wa_id="447700900555",
                user_id=None,
                profile_name="Maria Lopez",
                sent_at=wrote,
                type="text",
                text="Hello?",
            )
        ],
    )
    chat = Conversation.objects.get()
    messaging.message_add_note(conversation=chat, author=agent, text="Checking the policy")
    messaging.message_send_text(conversation=chat, sender=agent, text="Hi, Ana here")
    chat.refresh_from_db()

    figures = report_summary(
        member=supervisor,
        period=Period(wrote - timedelta(hours=1), timezone.now() + timedelta(hours=1)),
        project_id=None,
        agent_id=None,
    )

    assert chat.first_inbound_at == wrote
    seconds = (chat.first_reply_at - wrote).total_seconds()
    assert 50 <= seconds < SLA_SECONDS
    assert figures["first_reply_p50_seconds"] == pytest.approx(seconds, abs=0.1)
    assert (figures["sla_met_share"], figures["sla_counted"]) == (1.0, 1)
    assert (figures["messages_in"], figures["messages_out"]) == (1, 1)
