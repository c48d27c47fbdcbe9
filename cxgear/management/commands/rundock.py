"""``manage.py rundock``: the whole product on one machine, for ``make run``.

Starts the deployed shape: the ASGI server, a Celery worker with beat, and granian
serving the plain HTTP paths where throughput matters (the webhook Meta and the
simulator post to; daphne on the main port still serves everything, websockets
included), with the fake WhatsApp Cloud API (unless ``WHATSAPP_GRAPH_URL`` points
elsewhere) and the customer simulator writing to the demo number; stops them all on
Ctrl-C. Their logs are the human console (``LOG_FORMAT=human``) unless told otherwise:
the banner stays readable, followed by a line for each chat that arrives, is assigned
or is closed."""

from __future__ import annotations

import contextlib
import logging.config
import os
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from channels_whatsapp.templates import TemplateSyncError, templates_sync
from conversations.demo import DEMO_PASSWORD, DEMO_PHONE_NUMBER_ID, PEOPLE
from conversations.models import Channel
from cxgear import devservers
from cxgear.logging import logging_config

# Measured best for the webhook on two cores (docs/BENCHMARKS.md): two processes of
# four application threads each, HTTP handled in compiled code.
GRANIAN_OPTIONS = ("--interface", "wsgi", "--workers", "2", "--blocking-threads", "4")
# Its threads are fixed: each keeps its own database connection (settings).
GRANIAN_CONNECTIONS = "persistent"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the server, worker, fake Cloud API and customer simulator together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--fake-cloud-port", type=int, default=8001)
        parser.add_argument("--http-port", type=int, default=8002, help="granian's port")
        parser.add_argument("--rate", type=float, default=0.2, help="simulated messages per second")
        parser.add_argument("--duration", type=float, default=8 * 3600)
        parser.add_argument("--no-simulator", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(phone_number_id=DEMO_PHONE_NUMBER_ID).first()
        if channel is None:
            raise CommandError("no demo channel: run `manage.py bootstrap_demo` first")
        base = f"http://{options['host']}:{options['port']}"
        # Where deliveries go: granian.
        inbound = f"http://{options['host']}:{options['http_port']}"
        env = dict(os.environ, PUBLIC_BASE_URL=os.environ.get("PUBLIC_BASE_URL", inbound))
        if "LOG_FORMAT" not in env:
            env["LOG_FORMAT"] = "human"
            logging.config.dictConfig(logging_config(log_format="human", level=settings.LOG_LEVEL))
        beat_schedule = settings.BASE_DIR / "var" / "celerybeat-schedule"
        beat_schedule.parent.mkdir(exist_ok=True)
        manage = [sys.executable, "manage.py"]
        children: list[subprocess.Popen[bytes]] = []

        def start(argv: list[str], **extra: str) -> None:
            # Each in a session of its own, stopped by this command (a terminal's Ctrl-C
            # reaches this command alone): what a process forked (a Celery pool, its
            # beat, granian's workers) goes with it.
            children.append(subprocess.Popen(argv, env={**env, **extra}, start_new_session=True))

        fake_cloud = None
        if "WHATSAPP_GRAPH_URL" not in os.environ:
            port = options["fake_cloud_port"]
            fake_cloud = f"http://127.0.0.1:{port}"
            env["WHATSAPP_GRAPH_URL"] = f"http://127.0.0.1:{port}/v21.0"
            start(
                [
                    *manage,
                    "fake_cloud_api",
                    "--port",
                    str(port),
                    "--webhook-url",
                    f"{inbound}/webhooks/whatsapp/{channel.key}/",
                    "--app-secret",
                    channel.app_secret,
                ]
            )
        start(
            [
                sys.executable,
                "-m",
                "daphne",
                "-e",
                f"tcp:port={options['port']}:interface={options['host']}:backlog=1024",
                "--websocket_connect_timeout",
                "60",
                # Its line for every request belongs to production's logs, not a console.
                *(("--verbosity", "0") if env["LOG_FORMAT"] == "human" else ()),
                "cxgear.asgi:application",
            ]
        )
        celery_env = {}
        if env["LOG_FORMAT"] == "human" and os.geteuid() == 0:
            # Celery's warning about root, a screen long, under the banner of every run
            # on a machine where root is who everybody is.
            celery_env["PYTHONWARNINGS"] = "ignore::UserWarning:celery.platforms"
        start(
            [
                *(sys.executable, "-m", "celery", "--quiet", "-A", "cxgear", "worker", "-B"),
                *("--schedule", str(beat_schedule)),
            ],
            **celery_env,
        )
        start(
            [
                sys.executable,
                "-m",
                "granian",
                *GRANIAN_OPTIONS,
                *("--host", options["host"], "--port", str(options["http_port"])),
                *("--log-level", "warning", "cxgear.wsgi:application"),
            ],
            DATABASE_CONNECTIONS=env.get("DATABASE_CONNECTIONS", GRANIAN_CONNECTIONS),
        )
        servers = list(children)  # the simulator may finish; these must not
        # A service manager's SIGTERM stops the stack as Ctrl-C does.
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._wait_for(f"{base}/accounts/login/")
            self._wait_for(f"{inbound}/accounts/login/")
            if fake_cloud is not None:
                self._wait_for(f"{fake_cloud}/_fake/sent")
            templates = self._sync_templates(channel, graph_url=env["WHATSAPP_GRAPH_URL"])
            if not options["no_simulator"]:
                start(
                    [
                        *manage,
                        "simulate_customers",
                        "--url",
                        inbound,
                        "--channel",
                        str(channel.pk),
                        "--rate",
                        str(options["rate"]),
                        "--duration",
                        str(options["duration"]),
                        *(("--fake-cloud", fake_cloud) if fake_cloud else ()),
                    ]
                )
            self._announce(
                base, webhook=f"{inbound}/webhooks/whatsapp/{channel.key}/", templates=templates
            )
            while all(server.poll() is None for server in servers):
                time.sleep(0.5)
            raise CommandError("a process of the stack stopped; shutting down")
        except KeyboardInterrupt:
            self.stdout.write("stopping")
        finally:
            # Stopping already: a second Ctrl-C or SIGTERM must not cut the clean-up short.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=max(0.0, deadline - time.monotonic()))
                # Whatever is left of its session when it is gone or past the deadline (a
                # beat that was retrying its broker) is killed.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()

    def _wait_for(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise CommandError(f"the server did not answer at {url} within {timeout:.0f} s")

    def _sync_templates(self, channel: Channel, *, graph_url: str) -> str:
        """The demo number's templates, read from the Cloud API the stack talks to; what
        the banner says of them."""
        try:
            synced = templates_sync(channel=channel, graph_url=graph_url)
        except TemplateSyncError as exc:
            return f"not synced ({exc})"
        return f"{len(synced)} approved, synced from the business account"

    def _announce(self, base: str, *, webhook: str, templates: str) -> None:
        self.stdout.write(self.style.SUCCESS("\nCXGear chat dock is up"))
        self.stdout.write(f"  Dock:        {base}/dock/")
        self.stdout.write(f"  Supervision: {base}/supervision/")
        self.stdout.write(f"  Admin:       {base}/admin/")
        self.stdout.write(f"  API docs:    {base}/api/docs/")
        self.stdout.write(f"  Webhook:     {webhook}")
        self.stdout.write(f"  Templates:   {templates}")
        self.stdout.write(f"  Data:        {_where(settings.DATABASE_URL, settings.REDIS_URL)}")
        self.stdout.write(f"  Logins (password {DEMO_PASSWORD}):")
        for person in PEOPLE:
            self.stdout.write(f"    {person.email:32} {person.role}")
        self.stdout.write("Ctrl-C stops everything. What happens to the chats follows.\n")
        self.stdout.flush()


def _where(database_url: str, redis_url: str) -> str:
    """The two servers by address (no credentials), and whether they are this checkout's."""
    addresses = [
        f"{kind} {parts.hostname}:{parts.port}{parts.path}"
        for kind, parts in (("PostgreSQL", urlsplit(database_url)), ("Redis", urlsplit(redis_url)))
    ]
    own = {devservers.recorded_url("DATABASE_URL"), devservers.recorded_url("REDIS_URL")}
    mine = " (this checkout's, under var/)" if {database_url, redis_url} <= own else ""
    return ", ".join(addresses) + mine
