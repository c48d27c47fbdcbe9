"""An organization's admin changes the sign-ins of its own people only, passwords pass the
validators, and a taken e-mail or number is refused without saying who has it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conversations.models import Membership, Role, User
from tests.factories import PASSWORD, MembershipFactory, UserFactory

STRONG = "violet-harbour-lantern"


def test_an_admin_changes_the_password_of_their_own_member(ours, as_member):
    response = as_member(ours.admin).patch(
        f"/api/v1/members/{ours.agent.pk}/", {"password": STRONG}, format="json"
    )

    assert response.status_code == 200, response.content
    assert APIClient().login(username=ours.agent.user.email, password=STRONG)


def test_another_organizations_member_is_not_found_for_a_password_change(ours, others, as_member):
    response = as_member(ours.admin).patch(
        f"/api/v1/members/{others.agent.pk}/", {"password": STRONG}, format="json"
    )

    assert response.status_code == 404
    others.agent.user.refresh_from_db()
    assert others.agent.user.check_password(PASSWORD)


@pytest.mark.parametrize("account", ["superuser", "platform staff"])
def test_a_platform_account_working_in_the_organization_keeps_its_password(
    ours, as_member, account
):
    if account == "superuser":
        user = User.objects.create_superuser(email="root@platform.test", password=PASSWORD)
    else:
        user = UserFactory(is_staff=True)
    member = MembershipFactory(organization=ours.admin.organization, user=user, role=Role.AGENT)

    response = as_member(ours.admin).patch(
        f"/api/v1/members/{member.pk}/", {"password": STRONG}, format="json"
    )

    assert response.status_code == 403
    assert "platform" in response.json()["detail"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not APIClient().login(username=user.email, password=STRONG)


def test_changing_a_superusers_role_leaves_them_staff(ours, as_member):
    superuser = User.objects.create_superuser(email="root@platform.test", password=PASSWORD)
    member = MembershipFactory(organization=ours.admin.organization, user=superuser)

    response = as_member(ours.admin).patch(
        f"/api/v1/members/{member.pk}/", {"role": Role.AGENT}, format="json"
    )

    assert response.status_code == 200
    superuser.refresh_from_db()
    assert superuser.is_staff


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


def test_an_email_in_use_is_refused_alike_whoever_has_it(ours, others, as_member):
    client = as_member(ours.admin)

    answers = [
        client.post("/api/v1/members/", {"email": email.upper(), "password": STRONG}, format="json")
        for email in (others.agent.user.email, ours.agent.user.email)
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json() == {"email": ["This e-mail cannot be used."]}
    assert Membership.objects.filter(organization=ours.admin.organization).count() == 4


def test_a_phone_number_id_in_use_is_refused_alike_whoever_connected_it(ours, others, as_member):
    client = as_member(ours.admin)

    def connect(phone_number_id: str):
        return client.post(
            "/api/v1/channels/whatsapp/",
            {
                "project": ours.project.pk,
                "phone_number_id": phone_number_id,
                "access_token": "token",
                "app_secret": "secret",
                "verify_token": "verify",
            },
            format="json",
        )

    theirs = connect(others.channel.phone_number_id)
    mine = connect(ours.channel.phone_number_id)
    moved = client.patch(
        f"/api/v1/channels/whatsapp/{ours.channel.pk}/",
        {"phone_number_id": others.channel.phone_number_id},
        format="json",
    )

    refused = {"phone_number_id": ["This phone number id cannot be used."]}
    assert [theirs.status_code, mine.status_code, moved.status_code] == [400, 400, 400]
    assert theirs.json() == mine.json() == moved.json() == refused
