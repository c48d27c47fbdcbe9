"""The management commands of CONTRACT: create_org and bootstrap_demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conversations.demo import DEMO_PASSWORD
from conversations.models import Channel, Membership, Organization, Project, Role, User
from presence.models import DEFAULT_BUSY_REASONS, BusyReason

pytestmark = pytest.mark.django_db


def test_create_org_prints_one_json_line_with_a_working_token(client):
    out = StringIO()
    call_command(
        "create_org",
        name="Acme",
        admin_email="Boss@Acme.test",
        admin_password="s3cret-pass",
        stdout=out,
    )
    line = json.loads(out.getvalue().strip())
    assert set(line) == {"org", "user", "token"}
    admin = Membership.objects.get(pk=line["user"])
    assert admin.organization_id == line["org"]
    assert admin.role == Role.ADMIN
    assert admin.user.email == "boss@acme.test"
    assert admin.user.auth_token.key == line["token"]
    assert client.login(username="boss@acme.test", password="s3cret-pass")
    assert client.login(username="BOSS@Acme.TEST", password="s3cret-pass")


@pytest.mark.django_db(transaction=True)
def test_create_org_with_an_email_in_use_exits_1_with_a_clear_message():
    call_command("create_org", name="Acme", admin_email="boss@acme.test", admin_password="pw-12345")
    # A real process, so that the exit code is the one a shell would see.
    env = {**os.environ, "DATABASE_URL": _url_of_test_database()}
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_org",
            "--name",
            "Other",
            "--admin-email",
            "BOSS@acme.test",
            "--admin-password",
            "x-12345",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "boss@acme.test exists already" in done.stderr
    assert done.stdout == ""
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("password", ["12345678", "password", "boss@acme.test"])
def test_create_org_refuses_a_weak_password_and_makes_nothing(password):
    with pytest.raises(CommandError) as refused:
        call_command(
            "create_org",
            name="Acme",
            admin_email="boss@acme.test",
            admin_password=password,
            stdout=StringIO(),
        )

    assert refused.value.returncode == 1
    assert "--admin-password is refused" in str(refused.value)
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def _url_of_test_database() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_bootstrap_demo_creates_the_demo_once():
    call_command("bootstrap_demo", stdout=StringIO())
    counts = (Organization.objects.count(), User.objects.count(), Channel.objects.count())
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)

    assert (Organization.objects.count(), User.objects.count(), Channel.objects.count()) == counts
    assert Project.objects.count() == 2
    assert all(p.metadata for p in Project.objects.all())
    agents = Membership.objects.filter(role=Role.AGENT)
    assert agents.count() >= 4
    assert len({tuple(a.languages) for a in agents}) > 1
    assert len({tuple(a.skills) for a in agents}) > 1
    assert len({a.max_open for a in agents}) > 1
    assert Membership.objects.filter(role=Role.SUPERVISOR).exists()
    assert "supervisor@demo.cxgear.test" in out.getvalue()
    # The demo organization keeps the default Busy reasons, made once.
    demo = agents.first().organization
    assert list(BusyReason.objects.filter(organization=demo).values_list("name", flat=True)) == (
        list(DEFAULT_BUSY_REASONS)
    )


def test_the_demo_logins_it_prints_sign_in(client):
    out = StringIO()
    call_command("bootstrap_demo", stdout=out)

    assert DEMO_PASSWORD in out.getvalue()
    assert client.login(username="admin@demo.cxgear.test", password=DEMO_PASSWORD)
