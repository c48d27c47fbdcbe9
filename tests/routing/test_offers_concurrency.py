"""Offers under real parallelism on PostgreSQL: 200 chats, 20 agents who accept, decline
or let offers run out at random, routing passes, an expiry sweep and closes all at once.
No agent ever holds more than their room, and no chat is ever offered to two agents."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict

import pytest
from django.db import connection
from django.db.models import Q

from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationStatus,
    EventKind,
    Membership,
    Rule,
)
from presence.models import AgentPresence, PresenceSource, PresenceStatus
from presence.services import presence_set
from routing.offers import OfferGone, offer_accept, offer_decline, offers_expire_due
from routing.router import route_queue
from routing.services import conversation_close
from tests.factories import ConversationFactory

AGENTS = 20
ROOM = 3
CHATS = 200
# How long the desk works: the checks hold at every instant, so a short run is as good
# a proof as a long one, as long as every path is taken many times (checked below).
BUDGET_SECONDS = 15
# Threads playing the agents, each five of them in turn: with the routers, the sweep
# and the watch, fewer threads than the process's database pool holds connections.
DESKS = 4

# Each agent's places taken now (assigned or offered), read in one statement: one
# snapshot of every agent at the same instant.
HELD = """
SELECT COALESCE(agent_id, offered_to_id) AS member, count(*)
FROM conversations_conversation
WHERE organization_id = %s AND status IN ('assigned', 'offered')
GROUP BY 1
"""


def held_places(organization_id: int) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(HELD, [organization_id])
        return dict(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_offers_to_twenty_agents_never_overfill_a_room_or_reach_two_agents(desk, broker):
    """Routing passes run in two router threads, as in two workers: the tasks the moves
    ask for stay in the broker (``broker``), and the sweep's thread passes on offers
    whose time ran out."""
    desk.project.offer_timeout_seconds = 1
    desk.project.save(update_fields=["offer_timeout_seconds"])
    agents = [desk.agent(max_open=ROOM) for _ in range(AGENTS)]
    for _ in range(CHATS):
        ConversationFactory(channel=desk.channel)
    org = desk.org.pk
    done = threading.Event()
    errors: list[BaseException] = []
    peaks: list[int] = []
    gone: list[str] = []

    def thread(job):
        def run() -> None:
            try:
                while not done.is_set():
                    job()
            except BaseException as exc:
                errors.append(exc)
                done.set()
            finally:
                connection.close()

        return threading.Thread(target=run)

    def agent_job(members: list[Membership]):
        rng = random.Random(members[0].pk)
        ignored: set[int] = set()  # offers this desk chose to let run out

        def job() -> None:
            for member in members:
                answer(member)
            time.sleep(rng.uniform(0, 0.02))

        def answer(member: Membership) -> None:
            for chat_id in Conversation.objects.filter(
                status=ConversationStatus.OFFERED, offered_to=member
            ).values_list("pk", flat=True):
                if chat_id in ignored:
                    continue
                choice = rng.random()
                try:
                    if choice < 0.6:
                        offer_accept(conversation_id=chat_id, member=member)
                    elif choice < 0.85:
                        offer_decline(conversation_id=chat_id, member=member)
                    else:
                        ignored.add(chat_id)
                except OfferGone as exc:
                    gone.append(str(exc))
            for chat in Conversation.objects.filter(
                status=ConversationStatus.ASSIGNED, agent=member
            ):
                conversation_close(conversation=chat, actor=member, outcome="resolved")
            presence = AgentPresence.objects.get(membership=member)
            if presence.status == PresenceStatus.BUSY:
                presence_set(
                    member=member, status=PresenceStatus.AVAILABLE, source=PresenceSource.DOCK
                )

        return job

    def router_job() -> None:
        route_queue(organization_id=org)
        time.sleep(0.05)

    def sweep_job() -> None:
        offers_expire_due()
        time.sleep(0.1)

    def watch_job() -> None:
        held = held_places(org)
        peaks.append(max(held.values(), default=0))
        if not Conversation.objects.filter(organization_id=org).exclude(status="closed").exists():
            done.set()
        time.sleep(0.02)

    threads = [thread(agent_job(agents[i::DESKS])) for i in range(DESKS)]
    threads += [thread(router_job) for _ in range(2)] + [thread(sweep_job), thread(watch_job)]
    for t in threads:
        t.start()
    done.wait(BUDGET_SECONDS)
    done.set()
    for t in threads:
        t.join()

    assert not errors, errors
    closed = Conversation.objects.filter(status=ConversationStatus.CLOSED).count()
    print(f"{closed} of {CHATS} chats closed", Counter(gone))
    assert peaks and max(peaks) <= ROOM
    still_offered = Conversation.objects.filter(status=ConversationStatus.OFFERED)
    for member in agents:
        counted = Membership.objects.get(pk=member.pk).open_conversations
        holds = Conversation.objects.filter(
            Q(status="assigned", agent=member) | Q(status="offered", offered_to=member)
        ).count()
        assert counted == holds <= ROOM
    assert still_offered.count() <= AGENTS * ROOM

    # Every chat's trail: one offer at a time, each ended before the next was made, and
    # only the agent it was offered to accepted it.
    trail = defaultdict(list)
    kinds = [EventKind.OFFERED, EventKind.ASSIGNED, EventKind.DECLINED, EventKind.OFFER_EXPIRED]
    for event in ConversationEvent.objects.filter(kind__in=kinds).order_by("created_at", "id"):
        trail[event.conversation_id].append(event)
    offers = 0
    outcomes = defaultdict(int)
    for events in trail.values():
        open_offer = None
        for event in events:
            if event.kind == EventKind.OFFERED:
                assert open_offer is None, "offered while an offer was open"
                open_offer = event.to_agent_id
                offers += 1
                continue
            assert open_offer is not None and event.from_agent_id == open_offer
            outcomes[event.kind] += 1
            if event.kind == EventKind.ASSIGNED:
                assert event.rule == Rule.OFFER_ACCEPTED and event.to_agent_id == open_offer
            open_offer = None
    # The run went through every path many times.
    assert outcomes[EventKind.ASSIGNED] >= 10
    assert outcomes[EventKind.DECLINED] >= 5
    assert outcomes[EventKind.OFFER_EXPIRED] >= 5
    assert offers >= AGENTS * ROOM + 20
