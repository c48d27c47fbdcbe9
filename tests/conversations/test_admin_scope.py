"""The admin of an organization manages its own people and nothing of the platform's:
not another organization's people, not superusers, not sign-ins of no organization, not
organizations themselves."""

from __future__ import annotations

from typing import cast

import pytest

from conversations.models import Membership, Organization, Role, User
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_MEMBER = "/admin/conversations/membership/add/"
STRONG = "violet-harbour-lantern"


@pytest.fixture
def admin() -> Membership:
    return cast(
        Membership, MembershipFactory(role=Role.ADMIN, organization__name="Ours", max_open=0)
    )


@pytest.fixture
def outsider() -> Membership:
    return cast(Membership, MembershipFactory(organization__name="Theirs"))


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(email="root@platform.test", password=PASSWORD)


@pytest.fixture
def loner() -> User:
    """A sign-in of no organization, as ``createsuperuser`` or a script leaves one."""
    return cast(User, UserFactory(email="loner@nowhere.test"))


def signed_in(client, user):
    client.force_login(user)
    return client


def new_person(**overrides):
    return {
        "email": "nina@example.test",
        "name": "Nina",
        "password1": STRONG,
        "password2": STRONG,
        "role": Role.AGENT,
        "max_open": 3,
        "skills": "[]",
        "languages": '["en"]',
        **overrides,
    }


def test_the_membership_form_offers_nobody_outside_the_organization(
    client, admin, outsider, superuser, loner
):
    colleague = MembershipFactory(organization=admin.organization)
    signed_in(client, admin.user)

    form = client.get(ADD_MEMBER).content.decode()
    listing = client.get("/admin/conversations/membership/").content.decode()

    for stranger in (outsider.user.email, superuser.email, loner.email):
        assert stranger not in form
        assert stranger not in listing
    assert 'name="email"' in form
    assert 'name="password1"' in form
    assert colleague.user.email in listing


@pytest.mark.parametrize("who", ["outsider", "superuser", "loner"])
def test_a_forged_post_binds_nobody_from_outside_into_the_organization(
    client, admin, outsider, superuser, loner, who
):
    target = {"outsider": outsider.user, "superuser": superuser, "loner": loner}[who]

    response = signed_in(client, admin.user).post(
        ADD_MEMBER,
        {
            "user": target.pk,
            "organization": admin.organization_id,
            "role": Role.ADMIN,
            "max_open": 0,
            "skills": "[]",
            "languages": "[]",
        },
    )

    assert response.status_code == 200  # the form again, with its errors
    assert not Membership.objects.filter(user=target, organization=admin.organization).exists()
    assert Membership.objects.filter(organization=admin.organization).count() == 1


def test_an_admin_adds_a_person_with_their_membership_in_their_own_organization(
    client, admin, outsider, superuser
):
    response = signed_in(client, admin.user).post(
        ADD_MEMBER,
        new_person(
            email="Nina@Example.test",
            role=Role.SUPERVISOR,
            max_open=4,
            # Neither is a field of an organization's form: both are ignored.
            organization=outsider.organization_id,
            user=superuser.pk,
        ),
    )

    assert response.status_code == 302, response.content.decode()
    nina = Membership.objects.select_related("user", "presence").get(
        user__email="nina@example.test"
    )
    assert nina.organization_id == admin.organization_id
    assert (nina.role, nina.max_open) == (Role.SUPERVISOR, 4)
    assert nina.user.is_staff
    assert nina.user.check_password(STRONG)
    assert not Membership.objects.filter(user=superuser).exists()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "This password is too common."),
        ("password", "This password is too common."),
        ("nina@example.test", "The password is too similar to the email."),
    ],
)
def test_a_weak_password_is_refused_in_the_admin(client, admin, password, reason):
    response = signed_in(client, admin.user).post(
        ADD_MEMBER, new_person(password1=password, password2=password)
    )

    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not User.objects.filter(email="nina@example.test").exists()


def test_an_email_in_use_elsewhere_is_refused_without_saying_where(client, admin, outsider):
    response = signed_in(client, admin.user).post(
        ADD_MEMBER, new_person(email=outsider.user.email.upper())
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "This e-mail cannot be used." in page
    assert "already" not in page
    assert Membership.objects.filter(organization=admin.organization).count() == 1


def test_a_superuser_adds_a_member_to_the_organization_they_pick(client, superuser):
    organization = OrganizationFactory()

    response = signed_in(client, superuser).post(
        ADD_MEMBER, new_person(organization=organization.pk)
    )

    assert response.status_code == 302, response.content.decode()
    assert Membership.objects.get(user__email="nina@example.test").organization == organization


def test_organizations_are_added_and_deleted_by_the_platform_only(client, admin, superuser):
    signed_in(client, admin.user)
    own = f"/admin/conversations/organization/{admin.organization_id}/"

    assert client.get("/admin/conversations/organization/add/").status_code == 403
    assert (
        client.post("/admin/conversations/organization/add/", {"name": "Mine"}).status_code == 403
    )
    assert client.get(f"{own}delete/").status_code == 403
    assert client.post(f"{own}delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{own}change/").status_code == 200  # renaming it stays theirs
    assert Organization.objects.filter(pk=admin.organization_id).exists()
    assert not Organization.objects.filter(name="Mine").exists()

    signed_in(client, superuser)
    assert client.get("/admin/conversations/organization/add/").status_code == 200


def test_sign_ins_of_no_organization_are_added_by_the_platform_only(client, admin, superuser):
    signed_in(client, admin.user)

    assert client.get("/admin/conversations/user/add/").status_code == 403
    response = client.post(
        "/admin/conversations/user/add/", {"email": "ghost@nowhere.test", "is_active": "on"}
    )

    assert response.status_code == 403
    assert not User.objects.filter(email="ghost@nowhere.test").exists()
    assert signed_in(client, superuser).get("/admin/conversations/user/add/").status_code == 200


@pytest.mark.parametrize("account", ["superuser", "platform staff"])
def test_a_platform_account_working_in_the_organization_is_not_the_organizations(
    client, admin, superuser, account
):
    user = superuser if account == "superuser" else UserFactory(is_staff=True)
    MembershipFactory(organization=admin.organization, user=user, role=Role.AGENT)
    signed_in(client, admin.user)

    listing = client.get("/admin/conversations/user/").content.decode()
    client.post(
        f"/admin/conversations/user/{user.pk}/change/",
        {"email": "mine@ours.test", "name": "Mine", "is_active": "on", "is_staff": "on"},
    )

    assert user.email not in listing
    user.refresh_from_db()
    assert user.email != "mine@ours.test"


def test_changing_an_email_to_one_in_use_elsewhere_does_not_say_where(client, admin, outsider):
    colleague = MembershipFactory(organization=admin.organization)

    response = signed_in(client, admin.user).post(
        f"/admin/conversations/user/{colleague.user_id}/change/",
        {"email": outsider.user.email.upper(), "name": "Colleague", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "This e-mail cannot be used." in response.content.decode()
    colleague.user.refresh_from_db()
    assert colleague.user.email != outsider.user.email.upper()
