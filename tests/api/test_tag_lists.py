"""Skills and languages follow one rule in the API and the admin (``conversations.tags``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_language_code_is_refused_and_nothing_changes(ours, as_member):
    response = as_member(ours.admin).patch(
        f"/api/v1/members/{ours.agent.pk}/", {"languages": ["en", "english"]}, format="json"
    )

    assert response.status_code == 400
    assert "Unknown language code: 'english'" in response.json()["languages"][0]
    before = list(ours.agent.languages)
    ours.agent.refresh_from_db()
    assert ours.agent.languages == before


def test_languages_and_skills_are_kept_as_the_admin_keeps_them(ours, as_member):
    response = as_member(ours.admin).patch(
        f"/api/v1/members/{ours.agent.pk}/",
        {"languages": ["ES", "en", "es"], "skills": [" Billing", "billing"]},
        format="json",
    )

    assert response.status_code == 200
    ours.agent.refresh_from_db()
    assert (ours.agent.languages, ours.agent.skills) == (["en", "es"], ["billing"])
