"""``reports/summary/`` and ``planning/forecast/`` as integrators and the pages call them."""

from __future__ import annotations

import pytest

from tests.api.conftest import token_client
from tests.reports.conftest import Month

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/reports/summary/"
FORECAST = "/api/v1/planning/forecast/"
MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def test_a_supervisor_reads_a_months_summary(month: Month):
    answer = token_client(month.supervisor).get(SUMMARY, MARCH)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["conversations"] == len(month.chats)
    assert body["from"].startswith("2026-03-01T00:00:00")
    assert {a["email"] for a in body["agents"] if a["agent"]} == {
        "ana@reports.test",
        "ben@reports.test",
        "dev@reports.test",
    }
    assert len(body["by_hour"]) == 24 and len(body["by_day"]) == 31


def test_the_summary_downloads_as_csv(month: Month):
    answer = token_client(month.supervisor).get(SUMMARY, {**MARCH, "format": "csv"})

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert 'filename="cxgear-report-20260301-20260401.csv"' in answer["Content-Disposition"]
    lines = answer.content.decode().splitlines()
    assert lines[0].split(",")[:4] == ["scope", "agent", "email", "conversations"]
    assert lines[1].startswith(f"all,,,{len(month.chats)},")


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "March"}, "from"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"project": "x"}, "project"),
        ({"agent": "0"}, "agent"),
        ({"format": "xml"}, "format"),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_it(month: Month, params, named):
    answer = token_client(month.supervisor).get(SUMMARY, params)

    assert answer.status_code == 400, answer.content
    assert named in answer.json()


def test_a_bad_parameter_asked_as_csv_is_still_a_json_400(month: Month):
    answer = token_client(month.supervisor).get(SUMMARY, {"from": "soon", "format": "csv"})

    assert answer.status_code == 400
    assert answer.json() == {"from": ["Expected a date (YYYY-MM-DD) or an ISO 8601 date-time."]}


def test_another_organizations_project_or_agent_is_no_such_thing(month: Month, others):
    client = token_client(month.supervisor)

    assert client.get(SUMMARY, {"project": others.project.pk}).json() == {
        "project": ["No such project."]
    }
    assert client.get(SUMMARY, {"agent": others.agent.pk}).json() == {"agent": ["No such member."]}


def test_an_agent_may_not_read_reports_or_plan(month: Month):
    client = token_client(month.agents[0])

    assert client.get(SUMMARY).status_code == 403
    assert client.post(FORECAST, {}, format="json").status_code == 403


def test_the_planner_answers_the_classic_erlang_c_example(month: Month):
    answer = token_client(month.supervisor).post(
        FORECAST,
        {
            "arrivals_per_hour": 720,
            "handle_minutes": 4,
            "max_open": 1,
            "target_wait_seconds": 15,
            "target_share": 0.8,
        },
        format="json",
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["mode"] == "erlang-c"
    row = next(r for r in body["staffing"] if r["agents"] == 55)
    assert row["share_within_target"] == pytest.approx(0.8459, rel=0.01)
    assert row["mean_wait_seconds"] == pytest.approx(8.18, rel=0.01)


def test_the_planner_replays_a_period(month: Month):
    answer = token_client(month.supervisor).post(
        FORECAST,
        {"replay": {**MARCH, "project": month.with_sla.pk}, "agents": [1, 2, 3]},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["mode"] == "replay"
    assert [r["agents"] for r in body["staffing"]] == [1, 2, 3]
    assert body["conversations"] == sum(1 for c in month.chats if c.project == month.with_sla)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"handle_minutes": 4, "max_open": 1}, "arrivals_per_hour"),
        ({"arrivals_per_hour": "NaN", "handle_minutes": 4, "max_open": 1}, "arrivals_per_hour"),
        ({"arrivals_per_hour": 10, "handle_minutes": 4, "max_open": 0}, "max_open"),
        (
            {"arrivals_per_hour": 10, "handle_minutes": 4, "max_open": 1, "target_share": 1},
            "target_share",
        ),
        ({"replay": {"from": "2026-03-01", "to": "2026-04-01", "project": 1}}, "agents"),
        (
            {"replay": {"from": "2026-01-01", "to": "2026-04-01", "project": 1}, "agents": [2]},
            "replay.to",
        ),
    ],
)
def test_a_bad_forecast_is_a_400_that_names_the_field(month: Month, body, named):
    answer = token_client(month.supervisor).post(FORECAST, body, format="json")

    assert answer.status_code == 400, answer.content
    assert named in answer.json()


def test_another_organizations_project_cannot_be_replayed(month: Month, others):
    answer = token_client(month.supervisor).post(
        FORECAST,
        {"replay": {**MARCH, "project": others.project.pk}, "agents": [2]},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json() == {"replay.project": ["No such project."]}
