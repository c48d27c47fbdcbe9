"""Routing requests reach Celery once per pass, however many arrive."""

from __future__ import annotations

import contextlib

import pytest
from django.db import transaction

from conversations import signals
from conversations.passes import running
from presence.models import PresenceStatus
from presence.services import presence_set
from routing.triggers import ROUTING_PASS, request_routing
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_a_burst_of_requests_enqueues_one_pass(broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(25):
            request_routing(organization_id=4242)

    assert broker.llen("celery") == 1


def test_a_request_after_the_pass_started_enqueues_another(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_routing(organization_id=4242)
    with running(ROUTING_PASS, 4242) as ours:
        assert ours
        with django_capture_on_commit_callbacks(execute=True):
            request_routing(organization_id=4242)
            request_routing(organization_id=4343)

    assert broker.llen("celery") == 3


def test_a_queue_change_the_core_announces_enqueues_a_pass_once_it_commits(
    broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signals.request_routing(organization_id=4242)
        assert broker.llen("celery") == 0

    assert broker.llen("celery") == 1


def test_a_queue_change_that_rolled_back_asks_nothing(broker, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        signals.request_routing(organization_id=4242)
        raise RuntimeError("the writer failed")

    assert broker.llen("celery") == 0


def test_a_presence_change_asks_routing_to_look_again(broker, django_capture_on_commit_callbacks):
    agent = MembershipFactory(presence=PresenceStatus.OFFLINE)
    with django_capture_on_commit_callbacks(execute=True):
        presence_set(member=agent, status=PresenceStatus.AVAILABLE, source="api")

    assert broker.llen("celery") == 1
