"""Before giving an agent a chat, the decision asks for the first queued chat ahead of it
in queue order that the same agent could take: priority first, then arrival, then id
for chats that arrived at the same instant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from routing.queries import under_lock

pytestmark = pytest.mark.django_db


def ahead_of(agent, chat, held=()) -> int | None:
    _, earlier = under_lock(agent, chat, held)
    return earlier


def test_the_chat_ahead_is_found_across_priorities_and_within_a_tie(desk):
    agent = desk.agent(max_open=5)
    instant = timezone.now() - timedelta(minutes=3)
    first, tied = desk.chat(queued_at=instant), desk.chat(queued_at=instant)
    urgent = desk.chat(ago=60, priority=5)
    late = desk.chat(ago=10)
    assert first.pk < tied.pk

    assert ahead_of(agent, urgent) is None
    assert ahead_of(agent, first) == urgent.pk
    assert ahead_of(agent, first, held=[urgent.pk]) is None
    assert ahead_of(agent, tied, held=[urgent.pk]) == first.pk
    assert ahead_of(agent, late) == urgent.pk
    assert ahead_of(agent, late, held=[urgent.pk]) == first.pk


def test_a_chat_ahead_that_the_agent_cannot_take_does_not_count(desk):
    agent = desk.agent(max_open=5, languages=["en"])
    desk.chat(ago=30, language="fi")
    mine = desk.chat(ago=20, language="en")

    assert ahead_of(agent, mine) is None
