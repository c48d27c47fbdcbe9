"""Event webhooks fan-out: 10,000 events to 5 receivers, and the API meanwhile.

An organization has 5 subscriptions to every event type, each to its own local HTTP
receiver (5 threaded servers in a process of their own, answering 200 at once). The
benchmark publishes 10,000 events through ``realtime.publish_all``, 50 a transaction,
as fast as it can (each is stored in the outbox once per subscription: 50,000 rows),
and the Celery worker delivers them. Timed: from the first publish until the last of
the 50,000 deliveries is in its receiver; every receiver must get each event once.

The API's latency meanwhile (``GET /api/v1/conversations/`` through granian, one
keep-alive client, one request after the other) is held against the same requests just
before, on the idle stack: the baseline. The ratio of the p99s is what the fan-out
costs the integrators and the dock's other calls while it runs (on two shared cores the
worker and granian take turns)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import httpx

from bench import stack
from bench.common import Check, Figure, latency_figures, ms, percentile, ratio_check
from bench.context import Context

EVENTS = int(os.environ.get("BENCH_WEBHOOK_EVENTS", "10000"))
RECEIVERS = 5
PER_TRANSACTION = 50
BASELINE_REQUESTS = 300
# Between two calls of the API probe: a steady trickle of calls, not a load of its own.
PROBE_PAUSE_SECONDS = 0.01
DEADLINE_SECONDS = 1800
RATIO_GOAL = 3.0  # the API's p99 while fanning out, at most this many idle p99s


def _receive(port: int, count: Any, last: Any, ready: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with count.get_lock():
                count.value += 1
                last.value = time.time()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def _receivers_process(ports: list[int], counts: list[Any], lasts: list[Any], ready: Any) -> None:
    events = [threading.Event() for _ in ports]
    for port, count, last, event in zip(ports, counts, lasts, events, strict=True):
        threading.Thread(target=_receive, args=(port, count, last, event), daemon=True).start()
    for event in events:
        event.wait()
    ready.set()
    threading.Event().wait()


def _seed(ports: list[int]) -> tuple[int, int, str, list[int]]:
    from rest_framework.authtoken.models import Token

    from bench.common import seed_organization
    from conversations.events import EventType
    from conversations.models import Membership, Role, User
    from webhooks.models import Subscription

    made = seed_organization(agents=10, max_open=5, name="Webhooks")
    organization = made["organization"]
    user = User.objects.create(email="admin@webhooks.bench.test", name="Admin", password="!")
    admin = Membership.objects.create(
        organization=organization, user=user, role=Role.ADMIN, max_open=0
    )
    token = Token.objects.create(user=user)
    for port in ports:
        Subscription.objects.create(
            organization=organization,
            url=f"http://127.0.0.1:{port}/events",
            events=[t.value for t in EventType],
            secret="bench-webhook-secret-0123456789",
        )
    return organization.pk, made["members"][0].pk, token.key, [admin.pk]


def _publish(organization_id: int, member_id: int) -> None:
    from django.db import transaction

    from conversations.events import EventType
    from conversations.realtime import Event, publish_all

    for start in range(0, EVENTS, PER_TRANSACTION):
        with transaction.atomic():
            publish_all(
                Event(
                    EventType.MESSAGE_CREATED,
                    {"conversation": n % 100, "n": n, "text": "Where is my parcel?"},  # type: ignore[arg-type]
                    (member_id,),
                    organization_id,
                )
                for n in range(start, min(start + PER_TRANSACTION, EVENTS))
            )


def _api_latencies(url: str, token: str, stop: threading.Event, limit: int | None) -> list[float]:
    seconds: list[float] = []
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=30) as client:
        while not stop.is_set() and (limit is None or len(seconds) < limit):
            began = time.perf_counter()
            answer = client.get(url)
            seconds.append(time.perf_counter() - began)
            if answer.status_code != 200:
                raise RuntimeError(f"the API answered {answer.status_code}: {answer.text[:200]}")
            time.sleep(PROBE_PAUSE_SECONDS)
    return seconds


def run(ctx: Context) -> tuple[list[Figure], list[Check]]:
    ports = [ctx.port() for _ in range(RECEIVERS)]
    counts: list[Synchronized[int]] = [multiprocessing.Value("q", 0) for _ in ports]
    lasts: list[Synchronized[float]] = [multiprocessing.Value("d", 0.0) for _ in ports]
    ready = multiprocessing.Event()
    receivers = multiprocessing.Process(
        target=_receivers_process, args=(ports, counts, lasts, ready), daemon=True
    )
    receivers.start()
    ready.wait(30)
    # The probe's calls are not to be counted against a per-token limit.
    env = ctx.env("web", API_RATE_PER_MINUTE="1000000")
    web = ctx.start(stack.granian(port=ctx.port(), env=env, log_dir=ctx.log_dir))
    try:
        organization_id, member_id, token, _ = _seed(ports)
        api = f"http://127.0.0.1:{web.port}/api/v1/conversations/?page_size=20"
        idle = _api_latencies(api, token, threading.Event(), BASELINE_REQUESTS)

        stop = threading.Event()
        during: list[float] = []
        probe = threading.Thread(
            target=lambda: during.extend(_api_latencies(api, token, stop, None))
        )
        started = time.time()
        probe.start()
        _publish(organization_id, member_id)
        published = time.time() - started
        deadline = time.monotonic() + DEADLINE_SECONDS
        while sum(c.value for c in counts) < EVENTS * RECEIVERS and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        probe.join()
        time.sleep(1.0)  # anything sent twice arrives now
        delivered = [c.value for c in counts]
        last_delivered = max(v.value for v in lasts) - started
    finally:
        receivers.terminate()
        receivers.join()
        ctx.stop(web)

    every_once = all(n == EVENTS for n in delivered)
    figures = [
        Figure("events x receivers", f"{EVENTS:,} x {RECEIVERS}"),
        Figure("published (stored in the outbox) in", f"{published:.1f} s"),
        Figure("last delivered after", f"{last_delivered:.1f} s"),
        Figure("deliveries/s", f"{EVENTS * RECEIVERS / last_delivered:,.0f}"),
        Figure("per receiver", ", ".join(f"{n:,}" for n in delivered)),
        *latency_figures("API idle", idle),
        *latency_figures("API during the fan-out", during),
    ]
    checks = [
        ratio_check(
            "webhooks: API p99 while 5 receivers are sent every event",
            product=percentile(during, 99),
            baseline=percentile(idle, 99),
            show=ms,
            baseline_name="same requests, idle",
            at_most=RATIO_GOAL,
        ),
        Check(
            "webhooks: every event to every receiver once",
            product=f"{sum(delivered):,}/{EVENTS * RECEIVERS:,} in {last_delivered:.0f} s",
            goal="all, once",
            held=every_once,
        ),
    ]
    return figures, checks
