"""The admin as an organization's admin uses it in a real browser (Debian's Chromium,
under the site's CSP): a number's webhook URL to give Meta, skills typed as tags,
languages from the ISO list, metadata as key and value rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, cast

import pytest
from playwright.sync_api import expect

from conversations.channels import webhook_url
from conversations.models import Membership, Project, Role
from tests.factories import PASSWORD, ChannelFactory, MembershipFactory, ProjectFactory
from tests.live_server import browser, daphne_process, daphne_server, fake_cloud_api

# The live server's fixtures, for this module's tests.
__all__ = ["browser", "daphne_process", "daphne_server", "fake_cloud_api"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Recorded before any script of the page runs; the browser reports each blocked thing.
WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def ada() -> Membership:
    """The admin of Acme, who sets up its numbers and people."""
    return cast(
        Membership,
        MembershipFactory(
            role=Role.ADMIN, organization__name="Acme", user__email="ada@acme.test", max_open=0
        ),
    )


@pytest.fixture
def admin_page(browser: Any, daphne_server: Any, ada: Membership) -> Iterator[Any]:
    """Ada signed in at the admin's own sign-in page, in a tab that may use the
    clipboard and keeps the CSP violations it meets."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=daphne_server.url,
        permissions=["clipboard-read", "clipboard-write"],
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.add_init_script(WATCH_VIOLATIONS)
    tab.goto("/admin/login/")
    tab.get_by_label(re.compile("e-?mail", re.I)).fill("ada@acme.test")
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    expect(tab.get_by_role("heading", name="Site administration")).to_be_visible()
    try:
        yield tab
        assert tab.evaluate("window.cspViolations") == []
    finally:
        context.close()


def test_a_channel_shows_its_webhook_url_and_copies_it(admin_page, ada):
    channel = ChannelFactory(organization=ada.organization, display_phone_number="+1 555 0100")
    url = webhook_url(channel)

    admin_page.goto(f"/admin/conversations/channel/{channel.pk}/change/")

    expect(admin_page.locator(".cx-webhook-url")).to_have_text(url)
    expect(admin_page.locator(".field-verify_token_status .readonly")).to_contain_text(
        re.compile("^set")
    )
    assert "verify-me" not in admin_page.content()  # the token itself is never shown
    admin_page.get_by_role("button", name="Copy").click()
    expect(admin_page.get_by_role("status")).to_have_text("Copied")
    assert admin_page.evaluate("navigator.clipboard.readText()") == url


def test_skills_are_typed_as_tags_and_saved_as_a_list(admin_page, ada):
    agent = MembershipFactory(organization=ada.organization, skills=["retention"])

    admin_page.goto(f"/admin/conversations/membership/{agent.pk}/change/")
    skills = admin_page.get_by_role("textbox", name=re.compile("^Skills"))
    skills.fill("Technical")
    skills.press("Enter")
    skills.type("billing,vip,")
    chips = admin_page.get_by_role("list", name="Skills, chosen")
    expect(chips.locator(".cx-chip-text")).to_have_text(
        ["retention", "technical", "billing", "vip"]
    )
    chips.get_by_role("button", name="Remove retention").click()
    skills.press("Backspace")  # the last one, vip
    expect(chips.locator(".cx-chip-text")).to_have_text(["technical", "billing"])
    admin_page.get_by_role("button", name="Save", exact=True).click()

    expect(admin_page.locator(".messagelist .success")).to_be_visible()
    agent.refresh_from_db()
    assert agent.skills == ["billing", "technical"]


def test_languages_refuse_a_code_that_is_not_iso_639_1(admin_page, ada):
    agent = MembershipFactory(organization=ada.organization, languages=["en"])

    admin_page.goto(f"/admin/conversations/membership/{agent.pk}/change/")
    languages = admin_page.get_by_role("combobox", name=re.compile("^Languages"))
    expect(admin_page.get_by_role("list", name="Languages, chosen")).to_contain_text("en (English)")
    languages.fill("es")
    languages.press("Enter")
    languages.fill("xx")
    languages.press("Enter")
    admin_page.get_by_role("button", name="Save", exact=True).click()

    expect(admin_page.locator(".field-languages .errorlist")).to_contain_text(
        "Unknown language code: 'xx'. Use two-letter ISO 639-1 codes"
    )
    agent.refresh_from_db()
    assert agent.languages == ["en"]


def test_metadata_rows_are_saved_as_an_object(admin_page, ada):
    project = ProjectFactory(organization=ada.organization, metadata={"offer": "20% off"})

    admin_page.goto(f"/admin/conversations/project/{project.pk}/change/")
    keys = admin_page.get_by_label("Metadata key")
    values = admin_page.get_by_label("Metadata value")
    expect(keys).to_have_count(1)
    expect(values.first).to_have_value("20% off")
    values.first.fill("12 months at 20% off")
    admin_page.get_by_role("button", name="Add a row").click()
    keys.nth(1).fill("campaign")
    values.nth(1).fill("Renewal wave, April")
    admin_page.get_by_role("button", name="Add a row").click()
    keys.nth(2).fill("scratch")
    admin_page.get_by_role("button", name="Remove the row scratch").click()
    admin_page.get_by_role("button", name="Save", exact=True).click()

    expect(admin_page.locator(".messagelist .success")).to_be_visible()
    project = Project.objects.get(pk=project.pk)
    assert project.metadata == {"offer": "12 months at 20% off", "campaign": "Renewal wave, April"}
