"""Every page the site serves forbids inline script and anything from elsewhere, and
still works under that policy in a real browser: a violation would be either a hole in
the policy or a page that no longer works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from conversations.models import Role
from presence.models import PresenceStatus
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.live_server import (
    browser,
    daphne_process,
    daphne_server,
    fake_cloud_api,
    page,
    sign_in,
)

# The live server's fixtures, for this module's browser tests.
__all__ = ["browser", "daphne_process", "daphne_server", "fake_cloud_api", "page"]

# Recorded before any script of the page runs; the browser reports each blocked thing.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def policy_of(headers: dict[str, str]) -> dict[str, list[str]]:
    header = headers["content-security-policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


class Watched:
    """A page whose CSP violations and console errors are kept."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(WATCH_VIOLATIONS)
        page.on(
            "console",
            lambda message: self.console.append(message.text) if message.type == "error" else None,
        )

    def visit(self, path: str) -> dict[str, str]:
        response = self.page.goto(path)
        assert response is not None and response.ok, path
        headers = response.all_headers()
        policy = policy_of(headers)
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        return headers

    def assert_clean(self) -> None:
        violations = self.page.evaluate("window.cspViolations")
        assert violations == []
        assert [m for m in self.console if "Content Security Policy" in m] == []


@pytest.fixture
def floor():
    """A supervisor, an admin and an agent with a chat that shows every kind of bubble."""
    agent = MembershipFactory(user__name="Ana Agent", user__email="ana@csp.test")
    organization = agent.organization
    MembershipFactory(
        organization=organization,
        role=Role.SUPERVISOR,
        user__email="sam@csp.test",
        max_open=0,
        presence=PresenceStatus.OFFLINE,
    )
    MembershipFactory(organization=organization, role=Role.ADMIN, user__email="ada@csp.test")
    channel = ChannelFactory(organization=organization, project__metadata={"offer": "20% off"})
    agent.projects.set([channel.project])
    chat = ConversationFactory(
        channel=channel,
        agent=agent,
        contact=ContactFactory(organization=organization, name="Maria Lopez"),
    )
    MessageFactory(conversation=chat, text="Is my renewal discount still valid?")
    MessageFactory(
        conversation=chat,
        type="document",
        text="my contract",
        media={"url": "https://files.example.com/contract.pdf", "filename": "contract.pdf"},
    )
    MessageFactory(conversation=chat, type="location", media={"latitude": 51.5, "longitude": 0})
    return chat


pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.browser
def test_the_dock_works_under_the_policy(page, floor):
    watched = Watched(page)
    watched.visit("/accounts/login/")
    sign_in(page, "ana@csp.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    watched.visit("/dock/")
    expect(page.locator("#connection")).to_have_text("Live")
    page.get_by_role("navigation", name="Open chats").get_by_role(
        "button", name="Maria Lopez"
    ).click()
    expect(page.locator("#messages")).to_contain_text("my contract")
    expect(page.locator("#messages a", has_text="Map")).to_be_visible()
    # Set through the CSSOM, which the policy allows: the avatar has its colour.
    page.wait_for_function(
        """() => {
          const avatar = document.querySelector(".chat .avatar");
          return avatar && getComputedStyle(avatar).getPropertyValue("--h").trim() !== "";
        }"""
    )
    watched.assert_clean()


@pytest.mark.browser
def test_the_board_works_under_the_policy(page, floor):
    watched = Watched(page)
    sign_in(page, "sam@csp.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    watched.visit("/supervision/")
    expect(page.locator("#connection")).to_have_text("Live")
    bar = page.get_by_label("Load bar of Ana Agent").locator("span")
    expect(bar).to_have_attribute("style", re.compile(r"width:\s*33%"))  # 1 of 3
    page.get_by_role("button", name="Maria Lopez").first.click()
    expect(page.locator("#panel-body")).to_contain_text("Is my renewal discount still valid?")
    watched.assert_clean()


@pytest.mark.browser
def test_the_admin_and_the_api_docs_work_under_the_policy(page, floor):
    watched = Watched(page)
    sign_in(page, "ada@csp.test")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    watched.visit("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    watched.visit("/admin/conversations/project/add/")
    expect(page.get_by_label("Name")).to_be_visible()
    watched.visit("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("CXGear chat dock API")
    expect(page.locator(".opblock").first).to_be_visible()
    watched.assert_clean()


HSTS_PROBE = """
import django
django.setup()
from django.conf import settings
print(settings.SECURE_HSTS_SECONDS)
"""


def hsts_seconds(**env: str) -> int:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "SECURE_HSTS_SECONDS")
    }
    done = subprocess.run(
        [sys.executable, "-c", HSTS_PROBE],
        env={**clean, "DJANGO_SETTINGS_MODULE": "cxgear.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_outside_debug_browsers_are_told_to_keep_to_https_for_a_year():
    assert hsts_seconds(SECRET_KEY="a-real-one", DEBUG="false") == 365 * 24 * 3600
    assert hsts_seconds(SECRET_KEY="a-real-one", DEBUG="false", SECURE_HSTS_SECONDS="600") == 600
    assert hsts_seconds(DEBUG="true") == 0


def test_only_https_responses_carry_hsts(settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    client = Client()
    secure = client.get("/accounts/login/", secure=True)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/accounts/login/").headers
