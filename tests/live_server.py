"""A live server for browser and socket tests: daphne serving ``cxgear.asgi:application``
in its own process, on the pytest test database and the real Redis channel layer, with
outbound WhatsApp calls going to a fake Cloud API.

Use it from a conftest::

    from tests.live_server import (  # noqa: F401
        browser, daphne_process, daphne_server, fake_cloud_api, page
    )

and mark the tests ``@pytest.mark.django_db(transaction=True)`` so what they create is
committed where the server can see it. Routing and sending run eagerly inside the server
(no Celery worker needed); the test process routes eagerly too (``tests/conftest.py``).
``sign_in(page, email)`` signs in through the login page; ``daphne_server.stop()`` and
``start()`` drop and restore every socket; ``daphne_server.session_cookie(user)`` signs in
a socket opened outside the browser.

Run directly, ``python -m tests.live_server PORT`` is the server itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.management import CommandError, call_command
from django.db import connection

from channels_whatsapp.fake_cloud import FakeCloudApi
from tests import chromium

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url_for_server() -> str:
    """The URL of the database pytest-django made, for another process to use."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "postgres")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class LiveServer:
    """One daphne process; ``restart()`` drops every socket, as a deploy or a network
    cut would, and comes back on the same address."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LiveServer:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.live_server", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the live server exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/accounts/login/", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the live server did not answer in time; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, *, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def session_cookie(self, user: Any) -> dict[str, str]:
        """A signed-in session for ``user``, as the login page would leave it, without
        going through the page (for sockets opened outside a browser)."""
        from importlib import import_module

        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        return {"name": settings.SESSION_COOKIE_NAME, "value": store.session_key or ""}


@pytest.fixture(scope="session")
def fake_cloud_api() -> Iterator[FakeCloudApi]:
    fake = FakeCloudApi(status_delay=0.05).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def daphne_process(
    django_db_setup: None, fake_cloud_api: FakeCloudApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_server(),
        "REDIS_URL": settings.REDIS_URL,
        "WHATSAPP_GRAPH_URL": fake_cloud_api.graph_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_MAX": "20",
        "PYTHONUNBUFFERED": "1",
    }
    server = LiveServer(env=env, log_path=tmp_path_factory.mktemp("live") / "daphne.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def daphne_server(
    daphne_process: LiveServer, fake_cloud_api: FakeCloudApi, transactional_db: None
) -> Iterator[LiveServer]:
    """The running server, with a clean fake Cloud API; restarted if a test stopped it."""
    fake_cloud_api.reset()
    fake_cloud_api.webhook_url = None
    fake_cloud_api.app_secret = None
    if daphne_process.process is None or daphne_process.process.poll() is not None:
        daphne_process.start()
    yield daphne_process
    _empty_database_while_the_server_settles()


def _empty_database_while_the_server_settles(attempts: int = 6) -> None:
    """Empty the database before the test database teardown does.

    The server in the other process is still handling the test's last moments (a closed
    browser's dock disconnecting, a presence change): a TRUNCATE of every table then
    meets a transaction holding rows of two of them, and PostgreSQL ends one of the two
    as a deadlock. When that is the flush, it is simply done again."""
    last_error: Exception | None = None
    for attempt in range(attempts):
        time.sleep(0.3 * (attempt + 1))
        try:
            call_command("flush", verbosity=0, interactive=False)
            return
        except CommandError as exc:
            last_error = exc
    raise RuntimeError("the test database could not be emptied after the test") from last_error


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module.

    Playwright's sync API keeps an event loop running in this thread, which Django takes
    for async code; the ORM calls of these tests are plain sync code, so that check is
    lifted while the browser lives and restored after."""
    from playwright.sync_api import expect, sync_playwright

    # Two shared cores and a server in another process: give assertions room to settle.
    expect.set_options(timeout=10_000)

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    launched = chromium.launch(playwright)
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, daphne_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=daphne_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def sign_in(page: Any, email: str, password: str | None = None) -> None:
    """Sign in through the login page, as a person would (the factories' password unless
    another is given)."""
    from tests.factories import PASSWORD

    password = password or PASSWORD
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _serve(port: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")
    import django

    django.setup()
    from daphne.cli import CommandLineInterface

    from cxgear.celery import app

    app.conf.task_always_eager = True
    # Hundreds of docks connecting at once: Twisted's listen backlog (50) is too short,
    # and their handshakes queue behind one another's session lookups for longer than
    # daphne's default five seconds.
    endpoint = f"tcp:port={port}:interface=127.0.0.1:backlog=1024"
    CommandLineInterface().run(
        ["-e", endpoint, "--websocket_connect_timeout", "60", "cxgear.asgi:application"]
    )


if __name__ == "__main__":
    _serve(sys.argv[1])
