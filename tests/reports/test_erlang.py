"""The planner's Erlang C against a published worked example, and what several chats at
once change."""

from __future__ import annotations

import pytest

from reports.erlang import erlang_c, forecast, staffing_for

# The classic worked example of the Erlang C formula (Mitan Ltd, "The Erlang-C formula",
# step by step; reproduced on many call-centre sites): 360 calls per half hour, an
# average call of 4 minutes, 55 agents, a service-level target of 15 seconds. Its
# published results: traffic intensity 48 Erlangs, occupancy 0.873, a probability of
# waiting of 0.2388 (Ec(m, u)), an average speed of answer of 8.18 seconds and a
# service level of 84.59 % answered within 15 seconds.
PUBLISHED = {"wait_probability": 0.2388, "mean_wait_seconds": 8.18, "share_within_target": 0.8459}


def test_the_published_worked_example_is_matched_to_one_percent():
    row = staffing_for(
        agents=55, max_open=1, load=360 * 2 * 240 / 3600, handle_seconds=240, target_wait_seconds=15
    )

    assert row.servers == 55
    for figure, published in PUBLISHED.items():
        assert getattr(row, figure) == pytest.approx(published, rel=0.01), figure


def test_the_forecast_of_the_example_names_the_fewest_agents_that_meet_the_target():
    answer = forecast(
        arrivals_per_hour=720,
        handle_minutes=4,
        max_open=1,
        target_wait_seconds=15,
        target_share=0.8,
    )

    assert answer["load_erlangs"] == 48
    rows = {r["agents"]: r for r in answer["staffing"]}
    needed = answer["agents_needed"]
    assert rows[needed]["share_within_target"] >= 0.8 > rows[needed - 1]["share_within_target"]
    assert rows[55]["share_within_target"] == pytest.approx(0.8459, rel=0.01)
    # Fewer agents, longer waits, all the way down to the fewest that keep up at all.
    waits = [r["mean_wait_seconds"] for r in answer["staffing"]]
    assert waits == sorted(waits, reverse=True)


def test_an_agent_with_three_chats_at_once_counts_as_three_places():
    one_each = forecast(
        arrivals_per_hour=60,
        handle_minutes=15,
        max_open=1,
        target_wait_seconds=60,
        target_share=0.8,
    )
    three_each = forecast(
        arrivals_per_hour=60,
        handle_minutes=15,
        max_open=3,
        target_wait_seconds=60,
        target_share=0.8,
    )

    assert three_each["agents_needed"] == pytest.approx(one_each["agents_needed"] / 3, abs=1)
    three = next(r for r in three_each["staffing"] if r["agents"] == three_each["agents_needed"])
    assert three["servers"] == 3 * three_each["agents_needed"]


def test_no_spare_place_means_every_chat_waits():
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(11, 10.0) < 1.0


def test_a_load_beyond_the_planner_is_refused():
    with pytest.raises(ValueError, match="Erlangs"):
        forecast(
            arrivals_per_hour=10_000,
            handle_minutes=600,
            max_open=1,
            target_wait_seconds=60,
            target_share=0.8,
        )
