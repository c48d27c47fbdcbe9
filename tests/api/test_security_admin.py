"""Passwords pass the validators wherever an organization's admin sets one."""

from __future__ import annotations

import pytest

from conversations.models import User
from tests.factories import PASSWORD


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "This password is too common."),
        ("12345678", "This password is entirely numeric."),
        ("password", "This password is too common."),
        ("nina@example.test", "The password is too similar to the email."),
        ("short1!", "This password is too short. It must contain at least 8 characters."),
    ],
)
def test_a_weak_password_is_refused_naming_the_field_and_why(ours, as_member, password, reason):
    response = as_member(ours.admin).post(
        "/api/v1/members/",
        {"email": "nina@example.test", "name": "Nina", "password": password},
        format="json",
    )

    assert response.status_code == 400
    assert reason in response.json()["password"]
    assert not User.objects.filter(email="nina@example.test").exists()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "This password is too common."),
        (None, "The password is too similar to the email."),  # the member's own e-mail
    ],
)
def test_a_weak_new_password_is_refused_and_the_old_one_stays(ours, as_member, password, reason):
    response = as_member(ours.admin).patch(
        f"/api/v1/members/{ours.agent.pk}/",
        {"password": password or ours.agent.user.email},
        format="json",
    )

    assert response.status_code == 400
    assert reason in response.json()["password"]
    ours.agent.user.refresh_from_db()
    assert ours.agent.user.check_password(PASSWORD)
