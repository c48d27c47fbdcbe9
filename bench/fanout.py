"""Dock fan-out: 1,000 dock websockets on one daphne process.

Each of 1,000 agents has one open chat and one signed-in dock. Customers then write
(signed webhook deliveries to granian, paced, to random chats) and each message is
timed from just before its webhook is sent until its ``message.created`` event arrives
in the socket of that chat's agent; an event that arrives in any other socket counts
against the run. Memory per connection is daphne's resident memory after the sockets
connected, less before, over their number. The servers are warmed up first with
unmeasured deliveries, as in service.

The baseline, measured through the same sockets between the customers' messages, is the
publish path alone: ``realtime.publish`` called from this process (the event stored,
then pushed through Redis and daphne), without the webhook and the message it stores.
The ratio of the two p99s is what the webhook, the worker's recording and the choice of
the socket add to an event's way."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench import stack
from bench.common import APP_SECRET, Check, Figure, latency_figures, ms, percentile, ratio_check
from bench.context import Context, MachineCPU, cpu_split
from bench.deliveries import encode, inbound_text

SOCKETS = 1000
MESSAGES = 300
RATE = 20  # customer messages per second: 1,000 agents each hearing every 50 s
CONNECT_AT_ONCE = 50
WARMUP = 48
PROBES = 200
RATIO_GOAL = 5.0  # the webhook's way to the socket, p99, at most this many publishes' p99
MEMORY_GOAL_KIB = 64


def _seed_docks() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """1,000 agents, each with a session cookie and one assigned chat."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import transaction
    from django.utils import timezone

    from bench.common import seed_organization
    from conversations.models import Contact, Conversation, ConversationStatus, Membership

    with transaction.atomic():
        made = seed_organization(agents=SOCKETS, max_open=3, name="Fan-out")
        organization, channel = made["organization"], made["channel"]
        # The deployment's own session store and table (``SESSION_ENGINE``).
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        Session = store.get_model_class()
        expiry = timezone.now() + timedelta(days=1)
        docks = []
        sessions = []
        for member in made["members"]:
            key = store._get_new_session_key()  # type: ignore[attr-defined]
            sessions.append(
                Session(
                    session_key=key,
                    session_data=store.encode(
                        {
                            SESSION_KEY: str(member.user.pk),
                            BACKEND_SESSION_KEY: "conversations.auth.RoleBackend",
                            HASH_SESSION_KEY: member.user.get_session_auth_hash(),
                        }
                    ),
                    expire_date=expiry,
                    user_id=member.user.pk,
                )
            )
            docks.append({"member": member.pk, "session": key, "wa_id": f"4476{member.pk:08d}"})
        Session.objects.bulk_create(sessions)
        contacts = Contact.objects.bulk_create(
            Contact(organization=organization, wa_id=d["wa_id"], name=f"Customer {d['member']}")
            for d in docks
        )
        now = timezone.now()
        Conversation.objects.bulk_create(
            Conversation(
                organization=organization,
                project=channel.project,
                channel=channel,
                contact=contact,
                status=ConversationStatus.ASSIGNED,
                agent_id=dock["member"],
                language="en",
                assigned_at=now,
                last_inbound_at=now,
            )
            for contact, dock in zip(contacts, docks, strict=True)
        )
        # Written in bulk, past the services: each agent's one open chat is counted here.
        Membership.objects.filter(organization=organization).update(open_conversations=1)
    return made, docks


class Docks:
    """The open sockets and what arrived in them."""

    def __init__(self) -> None:
        self.sockets: dict[int, ClientConnection] = {}
        self.waiting: dict[str, tuple[int, float]] = {}  # wamid -> (member, sent at)
        self.sent_wall: dict[str, float] = {}  # wamid -> sent at, on the wall clock
        self.latencies: list[float] = []
        # The two stages of a message's way, split at its row's created_at (the recording
        # pass sets it): webhook sent -> recorded, and recorded -> in the socket.
        self.to_recorded: list[float] = []
        self.recorded_to_socket: list[float] = []
        self.wrong_socket = 0
        self.probes: dict[str, float] = {}
        self.probe_latencies: list[float] = []
        self.answers: list[float] = []
        self.cpu = ""

    async def open(self, port: int, dock: dict[str, Any]) -> None:
        socket = await connect(
            f"ws://{stack.HOST}:{port}/ws/dock/",
            origin=f"http://{stack.HOST}:{port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": f"sessionid={dock['session']}"},
            open_timeout=120,
            ping_interval=None,
            max_queue=None,
        )
        first = json.loads(await asyncio.wait_for(socket.recv(), 120))
        if first.get("type") != "snapshot":
            raise RuntimeError(f"dock {dock['member']} got {first!r} before its snapshot")
        self.sockets[dock["member"]] = socket

    async def read(self, member: int, socket: ClientConnection) -> None:
        async for raw in socket:
            arrived, arrived_wall = time.perf_counter(), time.time()
            event = json.loads(raw)
            if event.get("type") != "message.created":
                continue
            sent = self.probes.pop(event["data"].get("wamid", ""), None)
            if sent is not None:
                self.probe_latencies.append(arrived - sent)
                continue
            expected = self.waiting.pop(event["data"].get("wamid", ""), None)
            if expected is None:
                continue
            if expected[0] != member:
                self.wrong_socket += 1
            self.latencies.append(arrived - expected[1])
            self._split(event["data"], arrived_wall)

    def _split(self, message: dict[str, Any], arrived_wall: float) -> None:
        sent = self.sent_wall.pop(message.get("wamid", ""), None)
        if sent is None or not message.get("created_at"):
            return
        recorded = datetime.fromisoformat(message["created_at"]).timestamp()
        self.to_recorded.append(recorded - sent)
        self.recorded_to_socket.append(arrived_wall - recorded)


def _publish_probe(member: int, name: str) -> None:
    from django.db import transaction

    from conversations.events import EventType
    from conversations.realtime import publish

    with transaction.atomic():
        # A probe whose own fields the benchmark reads back, not a catalogue shape.
        probe = {"wamid": name, "text": "probe"}
        publish(EventType.MESSAGE_CREATED, probe, to=[member])  # type: ignore[arg-type]


def _close_connection() -> None:
    from django.db import connection

    connection.close()


async def _probe(docks: Docks, members: list[int]) -> None:
    """The publish path alone: an event stored and pushed by ``realtime.publish`` from
    this process, timed to its socket (no webhook, no message stored, no HTTP server).
    It runs between the customers' messages, so that both see the same moments of the
    machine, from one thread that keeps its database connection, as a server's does."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=1) as thread:
        await asyncio.sleep(1 / RATE / 2)
        for i in range(PROBES):
            name = f"probe-{i}"
            docks.probes[name] = time.perf_counter()
            await loop.run_in_executor(thread, _publish_probe, random.choice(members), name)
            await asyncio.sleep(1 / RATE)
        await loop.run_in_executor(thread, _close_connection)
    deadline = time.monotonic() + 10
    while docks.probes and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _customers(
    docks: Docks, web_port: int, seed: dict, plan: list[dict], alongside: Coroutine[Any, Any, None]
) -> int:
    """The customers' paced messages, after the warm-up; ``alongside`` runs meanwhile."""
    channel = seed["channel"]
    url = f"http://{stack.HOST}:{web_port}/webhooks/whatsapp/{channel.key}/"
    failed = 0
    # The client lets go of a connection idle for 1 s: a server may close an idle one,
    # and a request sent on one that is closing must reconnect.
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(i: int, dock: dict[str, Any]) -> None:
            nonlocal failed
            wamid = f"wamid.fanout.{i}"
            body, headers = encode(
                inbound_text(
                    phone_number_id=channel.phone_number_id,
                    wa_id=dock["wa_id"],
                    wamid=wamid,
                    text=f"are you there? ({i})",
                ),
                APP_SECRET,
            )
            sent = time.perf_counter()
            docks.sent_wall[wamid] = time.time()
            docks.waiting[wamid] = (dock["member"], sent)
            response = await client.post(url, content=body, headers=headers)
            docks.answers.append(time.perf_counter() - sent)
            if response.status_code != 200:
                failed += 1

        await _warm_up(client, url, channel, plan)
        tasks = [asyncio.create_task(alongside)]
        for i, dock in enumerate(plan):
            tasks.append(asyncio.create_task(one(i, dock)))
            await asyncio.sleep(1 / RATE)
        await asyncio.gather(*tasks)
    return failed


async def _warm_up(client: httpx.AsyncClient, url: str, channel: Any, plan: list[dict]) -> None:
    """Unmeasured deliveries first, 16 at a time so that every server thread serves
    some: a fresh server's first requests open its database, Redis and broker
    connections, which a server in service has long done (the ingest run warms up too)."""
    for start in range(0, WARMUP, 16):
        bodies = [
            encode(
                inbound_text(
                    phone_number_id=channel.phone_number_id,
                    wa_id=dock["wa_id"],
                    wamid=f"wamid.warm-up.{start + i}",
                    text="warming up",
                ),
                APP_SECRET,
            )
            for i, dock in enumerate(plan[start : start + 16])
        ]
        await asyncio.gather(*(client.post(url, content=b, headers=h) for b, h in bodies))
    await asyncio.sleep(1)  # their recording and events are done before the clock starts


async def _measure(
    daphne_proc: stack.Process,
    web: stack.Process,
    worker: stack.Process,
    seed: dict[str, Any],
    docks_seed: list,
) -> tuple[Docks, float, int, int, int]:
    docks = Docks()
    rss_before = daphne_proc.rss_kib()
    started = time.perf_counter()
    for i in range(0, len(docks_seed), CONNECT_AT_ONCE):
        await asyncio.gather(
            *(docks.open(daphne_proc.port or 0, d) for d in docks_seed[i : i + CONNECT_AT_ONCE])
        )
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(2)  # let the presence writes of the last connections settle
    rss_after = daphne_proc.rss_kib()
    readers = [
        asyncio.create_task(docks.read(member, socket)) for member, socket in docks.sockets.items()
    ]
    plan = [random.choice(docks_seed) for _ in range(MESSAGES)]
    cpu = {
        "daphne": daphne_proc.cpu_seconds(),
        "granian": web.cpu_seconds(),
        "celery": worker.cpu_seconds(),
    }
    busy = MachineCPU.now()
    own = time.process_time()
    failed = await _customers(
        docks, web.port or 0, seed, plan, alongside=_probe(docks, list(docks.sockets))
    )
    deadline = time.monotonic() + 30
    while docks.waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    docks.cpu = cpu_split(
        {
            "daphne": daphne_proc.cpu_seconds() - cpu["daphne"],
            "granian": web.cpu_seconds() - cpu["granian"],
            "celery": worker.cpu_seconds() - cpu["celery"],
            "this client": time.process_time() - own,
        },
        MachineCPU.now().since(busy),
    )
    for socket in docks.sockets.values():
        await socket.close()
    await asyncio.gather(*readers, return_exceptions=True)
    return docks, connect_seconds, rss_before, rss_after, failed


def _daphne(ctx: Context) -> stack.Process:
    """daphne as the Dockerfile runs it: a deep listen backlog and a patient websocket
    handshake, or a thousand docks connecting at once on a busy machine are turned away
    by the defaults (a backlog of 50, 5 s to connect) rather than measured."""
    port = ctx.port()
    argv = [
        stack.PYTHON,
        "-m",
        "daphne",
        "-e",
        f"tcp:port={port}:interface={stack.HOST}:backlog=1024",
    ]
    argv += ["--websocket_connect_timeout", "60", "cxgear.asgi:application"]
    process = stack.Process(
        name=f"daphne-{port}", argv=argv, env=ctx.env("daphne"), log_dir=ctx.log_dir, port=port
    )
    return ctx.start(process)


def run(ctx: Context, worker: stack.Process) -> tuple[list[Figure], list[Check]]:
    seed, docks_seed = _seed_docks()
    web = ctx.start(stack.granian(port=ctx.port(), env=ctx.env("web"), log_dir=ctx.log_dir))
    daphne_proc = _daphne(ctx)
    random.seed(1000)
    docks, connect_seconds, before, after, failed = asyncio.run(
        _measure(daphne_proc, web, worker, seed, docks_seed)
    )
    lost = len(docks.waiting)
    connected = len(docks.sockets)
    per_connection = (after - before) / max(connected, 1)
    right = len(docks.latencies) - docks.wrong_socket
    figures = [
        Figure(
            "docks connected to one daphne",
            f"{connected}",
            f"in {connect_seconds:.1f} s, {CONNECT_AT_ONCE} at a time, each with its snapshot",
        ),
        Figure(
            "memory per connection",
            f"{per_connection:.0f} KiB",
            f"daphne RSS {before / 1024:.0f} MiB before, {after / 1024:.0f} MiB after",
        ),
        *latency_figures("baseline: realtime.publish to the socket", docks.probe_latencies),
        *latency_figures("webhook to the agent's socket", docks.latencies),
        *latency_figures("webhook's own time to the 200", docks.answers),
        *latency_figures("  of which: webhook sent -> message recorded", docks.to_recorded),
        *latency_figures("  of which: message recorded -> socket", docks.recorded_to_socket),
        Figure(
            "webhook to socket: delivered",
            f"{len(docks.latencies)}/{MESSAGES}",
            f"{RATE} msgs/s paced; {failed} webhook errors, {lost} never arrived,"
            f" {docks.wrong_socket} in a wrong socket",
        ),
        Figure("CPU while customers wrote", docks.cpu),
    ]
    checks = [
        ratio_check(
            f"fan-out: webhook to the right socket p99, {connected:,} docks",
            product=percentile(docks.latencies, 99),
            baseline=percentile(docks.probe_latencies, 99),
            show=ms,
            baseline_name="publish to socket p99",
            at_most=RATIO_GOAL,
        ),
        Check(
            "fan-out: memory per connection",
            product=f"{per_connection:.0f} KiB",
            goal=f"≤ {MEMORY_GOAL_KIB} KiB",
            held=per_connection <= MEMORY_GOAL_KIB,
        ),
        Check(
            "fan-out: every message in its agent's socket",
            product=f"{right}/{MESSAGES}, {docks.wrong_socket} elsewhere, {lost} lost",
            goal=f"all, {SOCKETS:,} docks",
            held=connected == SOCKETS and right == MESSAGES and failed == 0,
        ),
    ]
    return figures, checks
