"""Routing requests reach Celery once per pass, however many arrive."""

from __future__ import annotations

import pytest

from cxgear.passes import running
from routing.triggers import ROUTING_PASS, request_routing

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
