"""``make screenshot``: the dock in the middle of a shift, as ``docs/screenshots/43-chat-dock.png``,
and the same in dark mode as ``docs/screenshots/43-chat-dock-dark.png``; the supervisor's
board of the same shift as ``docs/screenshots/26-supervision-board.png`` (in dark mode
``26-supervision-board-dark.png``, at a phone's width ``26-supervision-board-phone.png``).

It works on a scratch database of its own on the PostgreSQL of ``DATABASE_URL`` (``make
screenshot`` starts the checkout's own when it is unset), dropped afterwards, so it never
touches yours: it loads the demo, lets customers write through the service the WhatsApp
webhook calls, lets routing hand the chats out (run in this process, as the test suite
runs tasks) and the agents answer, transfer and close through the services the dock
calls, then serves it with daphne and photographs Ana's dock in Chromium."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots" / "43-chat-dock.png"
OUTPUT_DARK = ROOT / "docs" / "screenshots" / "43-chat-dock-dark.png"
BOARD_OUTPUT = ROOT / "docs" / "screenshots" / "26-supervision-board.png"
BOARD_DARK_OUTPUT = ROOT / "docs" / "screenshots" / "26-supervision-board-dark.png"
BOARD_PHONE_OUTPUT = ROOT / "docs" / "screenshots" / "26-supervision-board-phone.png"
SUPERVISOR = "supervisor@demo.cxgear.test"
ASGI_APP = "cxgear.asgi:application"
ANA = "ana@demo.cxgear.test"
BEN = "ben@demo.cxgear.test"
_wamids = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_env(database_url: str, graph_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="cxgear.settings",
        WHATSAPP_GRAPH_URL=graph_url,
        LOG_LEVEL="WARNING",
    )
    return env


def customer_writes(
    channel: Any,
    *,
    wa_id: str,
    name: str,
    text: str = "",
    kind: str = "text",
    media: dict[str, Any] | None = None,
    minutes_ago: float = 0,
) -> None:
    """A customer's message, stored as a webhook delivery stores it."""
    from django.utils import timezone

    from conversations.messaging import InboundMessage, delivery_record

    delivery_record(
        channel=channel,
        messages=[
            InboundMessage(
                wamid=f"wamid.DEMO{next(_wamids):08d}",
                wa_id=wa_id,
                user_id=None,
                profile_name=name,
                sent_at=timezone.now() - timedelta(minutes=minutes_ago),
                type=kind,
                text=text,
                media=media or {},
            )
        ],
    )


def seed() -> None:
    """A morning of Ana's shift, made by the real services."""
    from conversations.demo import bootstrap_demo
    from conversations.messaging import (
        StatusUpdate,
        delivery_record,
        message_send_text,
    )
    from conversations.models import Conversation, ConversationStatus, Membership
    from presence.services import presence_set
    from routing.services import conversation_close, conversation_transfer

    _, channel, _ = bootstrap_demo()
    ana = Membership.objects.get(user__email=ANA)
    ben = Membership.objects.get(user__email=BEN)

    def open_chat(wa_id: str) -> Conversation:
        return Conversation.objects.get(contact__wa_id=wa_id, status=ConversationStatus.ASSIGNED)

    def read(message: Any) -> None:
        from django.utils import timezone

        message.refresh_from_db()
        delivery_record(
            channel=channel,
            messages=[],
            statuses=[
                StatusUpdate(wamid=message.wamid, status=state, at=timezone.now())
                for state in ("delivered", "read")
            ],
        )

    # Last week Maria renewed with Ana; the chat was closed with its outcome.
    presence_set(member=ana, status="available", source="dock")
    customer_writes(
        channel,
        wa_id="447700900101",
        name="Maria Lopez",
        text="Hi, my contract ends this month. What can you offer?",
        minutes_ago=60 * 24 * 6,
    )
    conversation_close(
        conversation=open_chat("447700900101"), actor=ana, outcome="Renewed: 12 months at 20% off"
    )

    # Tom first reached Ben, who handed him to Ana with a note.
    presence_set(member=ana, status="offline", source="dock")
    presence_set(member=ben, status="available", source="dock")
    customer_writes(
        channel,
        wa_id="447700900102",
        name="Tom Baker",
        text="I was charged twice for March",
        minutes_ago=9,
    )
    presence_set(member=ana, status="available", source="dock")
    conversation_transfer(
        conversation=open_chat("447700900102"),
        actor=ben,
        to_agent=ana,
        note="Billing question on a renewal: Ana has the discount codes",
    )
    presence_set(member=ben, status="offline", source="dock")

    customer_writes(
        channel,
        wa_id="447700900103",
        name="Priya Shah",
        kind="location",
        text="Fibre cabinet, Mill Lane",
        media={"latitude": 51.5202, "longitude": -0.0979, "name": "Fibre cabinet, Mill Lane"},
        minutes_ago=3,
    )
    customer_writes(
        channel,
        wa_id="447700900104",
        name="Jonas Weber",
        text="Thanks, that's all I needed!",
        minutes_ago=1,
    )

    # Maria is back: sticky routing brings her to Ana, who is working her thread now.
    customer_writes(
        channel,
        wa_id="447700900101",
        name="Maria Lopez",
        text="Hello again! I'd like to add a second line to my renewed plan.",
        minutes_ago=4,
    )
    maria = open_chat("447700900101")
    reply = message_send_text(
        conversation=maria,
        sender=ana,
        text="Hi Maria, welcome back! A second line is £8/month with your loyalty discount. "
        "Shall I add it from your next bill?",
    )
    read(reply)
    customer_writes(
        channel,
        wa_id="447700900101",
        name="Maria Lopez",
        kind="image",
        text="This is the letter I got",
        media={"mime_type": "image/jpeg", "id": "demo-media-1"},
    )
    customer_writes(
        channel,
        wa_id="447700900101",
        name="Maria Lopez",
        text="Yes please. Can the new line keep my daughter's current number?",
    )
    tom = open_chat("447700900102")
    answer = message_send_text(
        conversation=tom,
        sender=ana,
        text="Sorry about that, Tom. I can see the double charge and I'm refunding it now.",
    )
    read(answer)


def photograph(url: str) -> None:
    from playwright.sync_api import sync_playwright

    from tests import chromium

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, base_url=url)
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill(ANA)
        from conversations.demo import DEMO_PASSWORD

        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("#connection[data-state='live']")
        page.get_by_role("navigation", name="Open chats").get_by_role(
            "button", name="Maria Lopez"
        ).click()
        page.wait_for_selector("#ctx-history li")
        page.get_by_role("textbox", name="Message").fill(
            "Of course! The number stays the same; I'm adding the line now."
        )
        page.wait_for_timeout(400)
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT))
        # The system prefers dark: the dock follows it (the Theme switch stays on Auto).
        page.emulate_media(color_scheme="dark")
        page.wait_for_timeout(400)
        page.screenshot(path=str(OUTPUT_DARK))
        photograph_board(browser, url)
        browser.close()


def photograph_board(browser: Any, url: str) -> None:
    """The supervisor's board of the same shift: on a desk in light and dark, on a phone."""
    from conversations.demo import DEMO_PASSWORD

    for output, viewport, scheme in (
        (BOARD_OUTPUT, {"width": 1280, "height": 900}, "light"),
        (BOARD_DARK_OUTPUT, {"width": 1280, "height": 900}, "dark"),
        (BOARD_PHONE_OUTPUT, {"width": 390, "height": 844}, "light"),
    ):
        page = browser.new_page(viewport=viewport, base_url=url, color_scheme=scheme)
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill(SUPERVISOR)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dock/")
        page.goto("/supervision/")
        page.wait_for_selector("#connection[data-state='live']")
        page.wait_for_selector("#agents tbody tr")
        page.wait_for_timeout(600)
        page.screenshot(path=str(output), full_page=output is not BOARD_PHONE_OUTPUT)
        page.close()


def main() -> None:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        raise SystemExit("set DATABASE_URL and REDIS_URL; `make screenshot` does")
    sys.path.insert(0, str(ROOT))
    from bench.common import ScratchDatabase
    from channels_whatsapp.fake_cloud import FakeCloudApi

    scratch = ScratchDatabase(os.environ["DATABASE_URL"])
    fake = FakeCloudApi(status_delay=0.05).start()
    server = None
    try:
        env = _scratch_env(scratch.create(), fake.graph_url)
        for name in ("SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"):
            os.environ.pop(name, None)
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        from cxgear.celery import app as celery_app

        # No worker: routing and sends run here, as in the test suite.
        celery_app.conf.task_always_eager = True
        call_command("migrate", verbosity=0)
        seed()
        from django.db import connections

        connections.close_all()
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), ASGI_APP],
            cwd=ROOT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        _wait_for(url)
        photograph(url)
        for output in (OUTPUT, OUTPUT_DARK, BOARD_OUTPUT, BOARD_DARK_OUTPUT, BOARD_PHONE_OUTPUT):
            print(f"wrote {output.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        fake.stop()
        scratch.drop()


def _wait_for(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/accounts/login/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the dock server did not start")


if __name__ == "__main__":
    main()
