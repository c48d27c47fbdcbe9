"""The reports page and the planner in a real browser (Debian's Chromium through
Playwright) against daphne: charts drawn from the API's figures, the CSV download, and
the planner answering and drawing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.live_server import sign_in
from tests.reports.conftest import seed_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MARCH = "from=2026-03-01&to=2026-04-01"


@pytest.fixture
def problems(page):
    """What the page's console complains of (a script error, a refused style or script)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.append(str(e)))
    return seen


def signed_in(page) -> None:
    sign_in(page, "sam@reports.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))


def values(page, selector: str) -> list[float]:
    return [
        float(v)
        for v in page.locator(selector).evaluate_all(
            "nodes => nodes.map(n => n.getAttribute('data-value'))"
        )
    ]


def test_the_reports_charts_are_drawn_from_the_months_figures(page, problems):
    month = seed_month()
    signed_in(page)

    page.goto(f"/supervision/reports/?{MARCH}")
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)

    expect(page.locator("#fig-conversations")).to_have_text(str(len(month.chats)))
    volume = values(page, "#chart-volume rect.bar")
    assert len(volume) == 24
    assert sum(volume) == len(month.chats)
    by_hour = [sum(1 for c in month.chats if c.created_at.hour == h) for h in range(24)]
    assert volume == by_hour
    assert len(values(page, "#chart-distribution rect.bar")) == 7
    days_with_sla = {c.created_at.date() for c in month.chats if c.project == month.with_sla}
    assert len(values(page, "#chart-sla rect.bar")) == len(days_with_sla)
    agents = page.locator("#report-agents tbody tr")
    expect(agents).to_have_count(4)  # three agents and the chats no agent took
    assert problems == []


def test_the_report_downloads_as_csv(page, problems):
    month = seed_month()
    signed_in(page)
    page.goto(f"/supervision/reports/?{MARCH}")
    expect(page.locator("body[data-loaded=true]")).to_have_count(1)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()

    assert download.value.suggested_filename == "cxgear-report-20260301-20260401.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("scope,agent,email,conversations,")
    assert lines[1].startswith(f"all,,,{len(month.chats)},")
    assert len(lines) == 2 + 4
    assert problems == []


def test_the_planner_answers_a_load_and_a_replay_and_draws_them(page, problems):
    seed_month()
    signed_in(page)
    page.goto("/supervision/planning/")

    form = page.locator("#forecast-form")
    form.get_by_label("Chats arriving per hour").fill("720")
    form.get_by_label("Handle time (minutes)").fill("4")
    form.get_by_label("Chats an agent works at once").fill("1")
    form.get_by_label("Answered within (seconds)").fill("15")
    form.get_by_label("Share answered in time (%)").fill("80")
    form.get_by_role("button", name="Forecast").click()

    answer = page.locator("#planning-answer")
    expect(answer).to_contain_text("agents needed")
    expect(answer).to_contain_text("48 Erlangs")
    rows = page.locator("#planning-table tbody tr")
    expect(page.locator("#chart-staffing rect.bar")).to_have_count(rows.count())
    assert page.locator("#chart-staffing line.target").count() == 1

    replay = page.locator("#replay-form")
    replay.get_by_label("From").fill("2026-03-01")
    replay.get_by_label("To (not included)").fill("2026-04-01")
    replay.get_by_label("Project").select_option(label="Renewals")
    replay.get_by_label("Staffings to try").fill("1, 2, 3")
    replay.get_by_role("button", name="Replay").click()

    expect(answer).to_contain_text("As recorded")
    expect(page.locator("#chart-staffing rect.bar")).to_have_count(3)
    expect(rows).to_have_count(3)
    assert problems == []
