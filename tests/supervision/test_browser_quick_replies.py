"""The board's quick replies in a real browser: a supervisor adds one for a project and
deletes it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations.models import QuickReply, Role
from presence.models import PresenceStatus
from tests.factories import MembershipFactory, ProjectFactory
from tests.live_server import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_adds_and_deletes_a_quick_reply_on_the_board(page):
    sam = MembershipFactory(
        role=Role.SUPERVISOR,
        user__email="sam@board.test",
        max_open=0,
        presence=PresenceStatus.OFFLINE,
    )
    project = ProjectFactory(organization=sam.organization, name="Spring Renewals")
    sign_in(page, "sam@board.test")
    expect(page).to_have_url(re.compile(r"/dock/$"))
    page.goto("/supervision/")
    section = page.get_by_role("region", name="Quick replies")
    expect(section).to_contain_text("No quick replies yet.")

    form = section.get_by_role("form", name="Add a quick reply")
    form.get_by_label("Shortcut").fill("renew")
    form.get_by_label("Project").select_option(label="Spring Renewals")
    form.get_by_label("Text").fill("Hi {customer.first_name}, your offer is ready.")
    form.get_by_role("button", name="Add quick reply").click()

    expect(section.get_by_role("cell", name="/renew", exact=True)).to_be_visible()
    reply = QuickReply.objects.get()
    assert (reply.project, reply.shortcut) == (project, "renew")

    section.get_by_role("button", name="Delete /renew").click()
    expect(section).to_contain_text("No quick replies yet.")
    assert not QuickReply.objects.exists()
