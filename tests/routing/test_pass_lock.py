"""One pass at a time walks an organization's queue: a pass asked for meanwhile comes back
after it, and the sweep leaves the organization to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from conversations.models import ConversationStatus
from conversations.passes import advisory_lock_keys, mark_key, running
from routing.router import route_all
from routing.tasks import route_queue
from routing.triggers import ROUTING_LOCK_NAMESPACE, ROUTING_PASS, request_routing
from tests.celery_worker import celery_worker, database_url, wait_until  # noqa: F401


def took_pass_lock(session: psycopg.Connection, organization_id: int) -> bool:
    row = session.execute(
        "SELECT pg_try_advisory_lock(%s, %s)",
        advisory_lock_keys(ROUTING_LOCK_NAMESPACE, organization_id),
    ).fetchone()
    return row == (True,)


@contextmanager
def pass_of_another_worker(organization_id: int) -> Iterator[None]:
    """Hold the organization's pass lock from a session of its own, as another worker's
    pass walking the queue would."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        assert took_pass_lock(other, organization_id), "the pass lock is held already"
        yield


def status_of(chat) -> str:
    chat.refresh_from_db()
    return chat.status


@pytest.mark.django_db
def test_a_pass_asked_for_while_another_walks_the_queue_waits_and_routes_nothing(desk):
    desk.agent()
    chat = desk.chat()

    with pass_of_another_worker(desk.org.pk), pytest.raises(Retry):
        route_queue(desk.org.pk)  # called as the worker calls it, not eagerly

    assert status_of(chat) == ConversationStatus.QUEUED
    # Once the other pass is done, the same task routes.
    route_queue(desk.org.pk)
    assert status_of(chat) == ConversationStatus.ASSIGNED


def another_session_could_pass(organization_id: int) -> bool:
    with psycopg.connect(database_url(), autocommit=True) as other:
        return took_pass_lock(other, organization_id)


@pytest.mark.django_db
def test_the_pass_lock_is_one_organizations_and_let_go_after_the_pass(desk):
    with running(ROUTING_PASS, desk.org.pk) as ours:
        assert ours
        assert not another_session_could_pass(desk.org.pk)
        assert another_session_could_pass(desk.org.pk + 1)
    assert another_session_could_pass(desk.org.pk)


@pytest.mark.django_db
def test_the_sweep_leaves_an_organization_to_the_pass_walking_its_queue(desk):
    desk.agent()
    chat = desk.chat()

    with pass_of_another_worker(desk.org.pk):
        assert route_all() == 0
        assert status_of(chat) == ConversationStatus.QUEUED

    assert route_all() == 1
    assert status_of(chat) == ConversationStatus.ASSIGNED


@pytest.fixture
def celery_worker_env() -> dict[str, str]:
    # The sweep would route the chat by itself: here only the waiting pass may.
    return {"ROUTING_SWEEP_SECONDS": "3600"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_on_the_worker_a_waiting_pass_keeps_its_mark_and_routes_once_the_other_is_done(
    desk,
    celery_worker,  # noqa: F811
):
    desk.agent()
    chat = desk.chat()
    marks = redis.Redis.from_url(settings.REDIS_URL)
    mark = mark_key(ROUTING_PASS, desk.org.pk)

    with pass_of_another_worker(desk.org.pk):
        request_routing(organization_id=desk.org.pk)
        wait_until(lambda: marks.exists(mark), timeout=10)
        time.sleep(2.0)  # ten of the waiting pass's returns
        assert status_of(chat) == ConversationStatus.QUEUED
        # Still marked as waiting: requests meanwhile enqueue no pass of their own.
        assert marks.exists(mark)

    def routed():
        """the chat is assigned by the pass that waited"""
        return status_of(chat) == ConversationStatus.ASSIGNED

    wait_until(routed, timeout=30)
    assert not marks.exists(mark)
    marks.close()


@pytest.mark.django_db(transaction=True)
def test_a_pass_whose_unlock_is_refused_ends_its_session_and_frees_the_organization(desk):
    with transaction.atomic():
        with running(ROUTING_PASS, desk.org.pk) as ours:
            assert ours
            # A failed statement leaves the transaction around the pass refusing the unlock.
            with pytest.raises(DatabaseError), connection.cursor() as cursor:
                cursor.execute("SELECT 1 / 0")
        assert not connection.is_usable()

    assert another_session_could_pass(desk.org.pk)
