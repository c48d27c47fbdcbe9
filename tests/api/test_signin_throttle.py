"""Failed sign-ins are throttled on both doors, the API's ``auth/token/`` and the login
page: after 10 failures for one e-mail in the window, even the right password is refused
with 429 until the window passes; an address that many people share (a contact centre's
NAT) has a limit of its own, ten times higher."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client
from django_ratelimit import core as ratelimit_core
from rest_framework.test import APIClient

from tests.factories import PASSWORD, MembershipFactory

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"


@pytest.fixture(autouse=True)
def _quick_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def agent():
    return MembershipFactory(user__email="ana@throttle.test")


def token_door(email: str, password: str, address: str = "127.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json"
    )


def login_door(email: str, password: str, address: str = "127.0.0.1", client=None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_the_eleventh_failed_sign_in_for_an_email_gets_429_on_the_token_door(agent):
    for _ in range(10):
        assert token_door(agent.user.email, WRONG).status_code == 400

    refused = token_door(agent.user.email, WRONG)
    right_password = token_door(agent.user.email, PASSWORD)

    assert refused.status_code == 429
    assert right_password.status_code == 429
    assert "token" not in right_password.json()
    assert "e-mail" in right_password.json()["detail"]
    assert 0 < int(right_password["Retry-After"]) <= settings.SIGNIN_THROTTLE_WINDOW_SECONDS


def test_the_eleventh_failed_sign_in_for_an_email_gets_429_on_the_login_page(agent):
    for _ in range(10):
        page = login_door(agent.user.email, WRONG)
        assert page.status_code == 200
        assert "do not match" in page.content.decode()

    client = Client()
    refused = login_door(agent.user.email, PASSWORD, client=client)

    assert refused.status_code == 429
    text = refused.content.decode()
    assert "Too many failed sign-ins" in text
    assert 'name="username"' in text  # the page itself, to try again later
    assert 0 < int(refused["Retry-After"]) <= settings.SIGNIN_THROTTLE_WINDOW_SECONDS
    assert "_auth_user_id" not in client.session


def test_failures_at_either_door_count_together(agent):
    for _ in range(5):
        login_door(agent.user.email, WRONG)
        token_door(agent.user.email, WRONG)

    assert token_door(agent.user.email, PASSWORD).status_code == 429
    assert login_door(agent.user.email, PASSWORD).status_code == 429


def test_the_email_is_counted_whatever_its_case(agent):
    for _ in range(10):
        token_door(agent.user.email.upper(), WRONG)

    assert token_door(agent.user.email, PASSWORD).status_code == 429


def test_a_colleague_still_signs_in_and_does_not_end_the_lockout(agent):
    colleague = MembershipFactory(organization=agent.organization)
    for _ in range(10):
        token_door(agent.user.email, WRONG)

    assert token_door(colleague.user.email, PASSWORD).status_code == 200
    assert login_door(colleague.user.email, PASSWORD).status_code == 302
    assert token_door(agent.user.email, PASSWORD).status_code == 429


def test_under_the_limit_the_right_password_still_works(agent):
    for _ in range(9):
        token_door(agent.user.email, WRONG)

    assert token_door(agent.user.email, PASSWORD).status_code == 200


def test_one_address_has_a_higher_limit_of_its_own(agent):
    """Agents behind one NAT share an address: a hundred failures from it, none reaching
    any one e-mail's limit, lock the address; other addresses are unaffected."""
    assert settings.SIGNIN_FAILURES_PER_ADDRESS == 100
    for n in range(100):
        token_door(f"nobody{n}@throttle.test", WRONG, address="198.51.100.7")

    refused = token_door(agent.user.email, PASSWORD, address="198.51.100.7")

    assert refused.status_code == 429
    assert "address" in refused.json()["detail"]
    assert login_door(agent.user.email, PASSWORD, address="198.51.100.7").status_code == 429
    assert token_door(agent.user.email, PASSWORD, address="203.0.113.9").status_code == 200


def test_behind_a_trusted_proxy_the_address_is_the_one_it_added(agent, settings):
    """The proxy appends the address it saw; what a client wrote before it is not trusted."""
    settings.TRUST_X_FORWARDED_FOR = True
    for n in range(100):
        APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.7").post(
            "/api/v1/auth/token/",
            {"email": f"nobody{n}@throttle.test", "password": WRONG},
            format="json",
        )

    def through_proxy(client_address: str):
        return APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=client_address).post(
            "/api/v1/auth/token/", {"email": agent.user.email, "password": PASSWORD}, format="json"
        )

    assert through_proxy("198.51.100.7").status_code == 429
    assert through_proxy("203.0.113.9").status_code == 200


def test_the_lockout_ends_when_the_window_passes(agent, monkeypatch):
    now = [1_900_000_000.0]
    # The counters' windows follow the throttle's clock; fifteen minutes pass at once.
    monkeypatch.setattr(ratelimit_core, "time", SimpleNamespace(time=lambda: now[0]))
    for _ in range(10):
        token_door(agent.user.email, WRONG)
    refused = token_door(agent.user.email, PASSWORD)
    assert refused.status_code == 429
    retry_after = int(refused["Retry-After"])

    now[0] += retry_after - 1
    assert token_door(agent.user.email, PASSWORD).status_code == 429
    now[0] += 1
    assert token_door(agent.user.email, PASSWORD).status_code == 200
