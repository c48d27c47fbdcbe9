"""``make screenshot``: the dock in the middle of a shift, as ``docs/screenshots/43-chat-dock.png``,
the same in dark mode as ``docs/screenshots/43-chat-dock-dark.png``, its quick-reply picker
open (``44-quick-replies.png``), a thread with a customer's photo, voice note and document
(``24-media-thread.png``); the supervisor's board of the same shift as
``26-supervision-board.png`` (in dark mode ``26-supervision-board-dark.png``, at a phone's
width ``26-supervision-board-phone.png``); then the supervision area's reports and staffing
planner over four weeks of history (``44-reports.png``, ``45-planning.png``).

It works on a scratch database of its own on the PostgreSQL of ``DATABASE_URL`` (``make
screenshot`` starts the checkout's own when it is unset), dropped afterwards, so it never
touches yours: it loads the demo, lets customers write through the service the WhatsApp
webhook calls, lets routing hand the chats out (run in this process, as the test suite
runs tasks) and the agents answer, transfer and close through the services the dock
calls, then serves it with daphne and photographs Ana's dock in Chromium. The customers'
files are fetched from a fake Cloud API (its sample photo, voice note and PDF) and kept in
a scratch folder."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots" / "43-chat-dock.png"
OUTPUT_DARK = ROOT / "docs" / "screenshots" / "43-chat-dock-dark.png"
MEDIA_OUTPUT = ROOT / "docs" / "screenshots" / "24-media-thread.png"
REPORTS_OUTPUT = ROOT / "docs" / "screenshots" / "44-reports.png"
PLANNING_OUTPUT = ROOT / "docs" / "screenshots" / "45-planning.png"
QUICK_REPLIES_OUTPUT = ROOT / "docs" / "screenshots" / "44-quick-replies.png"
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


def _scratch_env(database_url: str, graph_url: str, media_root: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="cxgear.settings",
        WHATSAPP_GRAPH_URL=graph_url,
        MEDIA_ROOT=media_root,
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
    from channels_whatsapp.fake_cloud import SAMPLE_DOCUMENT_ID, SAMPLE_PHOTO_ID, SAMPLE_VOICE_ID
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
        kind="document",
        text="This is the letter I got",
        media={
            "mime_type": "application/pdf",
            "id": SAMPLE_DOCUMENT_ID,
            "filename": "renewal-letter.pdf",
            "caption": "This is the letter I got",
        },
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
    # Sam's parcel came damaged: a photo, a voice note and the delivery note.
    sam: dict[str, Any] = {"wa_id": "447700900105", "name": "Sam Okafor"}
    customer_writes(
        channel, **sam, text="Hi, my parcel arrived damaged this morning.", minutes_ago=2
    )
    customer_writes(
        channel,
        **sam,
        kind="image",
        text="The box as it came",
        media={"mime_type": "image/jpeg", "id": SAMPLE_PHOTO_ID, "caption": "The box as it came"},
        minutes_ago=2,
    )
    customer_writes(
        channel,
        **sam,
        kind="audio",
        media={"mime_type": "audio/ogg; codecs=opus", "id": SAMPLE_VOICE_ID, "voice": True},
        minutes_ago=1,
    )
    customer_writes(
        channel,
        **sam,
        kind="document",
        text="And the delivery note",
        media={
            "mime_type": "application/pdf",
            "id": SAMPLE_DOCUMENT_ID,
            "filename": "delivery-note.pdf",
            "caption": "And the delivery note",
        },
        minutes_ago=1,
    )
    message_send_text(
        conversation=open_chat("447700900105"),
        sender=ana,
        text="I'm sorry, Sam. Thanks for the photo and the note: I'm sending a replacement today.",
    )
    seed_a_note(maria=maria, ben=ben)


def seed_a_note(*, maria: Any, ben: Any) -> None:
    """A colleague's internal note in Maria's thread, for Ana only."""
    from conversations.messaging import message_add_note

    message_add_note(
        conversation=maria,
        author=ben,
        text="Her daughter's number is on the old family plan: port it, don't issue a new SIM.",
    )


def photograph_quick_replies(page: Any) -> None:
    """The quick-reply picker, open on "/" in Maria's composer."""
    composer = page.get_by_role("textbox", name="Message")
    composer.fill("")
    composer.press_sequentially("/")
    page.get_by_role("listbox", name="Quick replies").get_by_role("option").first.wait_for()
    page.wait_for_timeout(300)
    page.screenshot(path=str(QUICK_REPLIES_OUTPUT))


def seed_history(days: int = 28, seed: int = 2026) -> None:
    """Four weeks of closed chats before today, written straight to the tables: what the
    reports and the planner's replay read. Busier late mornings and afternoons, quieter
    weekends; most answered within a minute or two, some much later."""
    import random
    from datetime import datetime
    from datetime import time as day_time

    from django.utils import timezone

    from conversations.models import (
        Channel,
        Contact,
        Conversation,
        ConversationEvent,
        ConversationStatus,
        Direction,
        EventKind,
        Membership,
        Message,
        MessageStatus,
    )

    rng = random.Random(seed)
    channel = Channel.objects.select_related("project").get()
    agents = list(Membership.objects.filter(projects=channel.project, role="agent").order_by("pk"))
    hourly = [0, 0, 0, 0, 0, 0, 1, 3, 6, 9, 11, 10, 8, 9, 11, 12, 10, 8, 6, 4, 3, 2, 1, 0]
    today = timezone.localdate()
    chats: list[dict[str, Any]] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        scale = 0.45 if day.weekday() >= 5 else 1.0
        for hour, mean in enumerate(hourly):
            for _ in range(int(rng.gauss(mean * scale, 1.5 + mean * 0.2)) if mean else 0):
                opened = timezone.make_aware(datetime.combine(day, day_time(hour))) + timedelta(
                    seconds=rng.randrange(3600)
                )
                wait = rng.expovariate(1 / (8 + mean * 2))
                reply = wait + rng.expovariate(1 / 25)
                handle = rng.uniform(240, 1500)
                chats.append(
                    {
                        "opened": opened,
                        "agent": rng.choice(agents),
                        "assigned": opened + timedelta(seconds=wait),
                        "reply": opened + timedelta(seconds=reply),
                        "closed": opened + timedelta(seconds=wait + handle),
                        "transfer": rng.random() < 0.06,
                        "replies": rng.randrange(1, 5),
                    }
                )
    contacts = Contact.objects.bulk_create(
        Contact(organization_id=channel.organization_id, wa_id=f"4420{n:08d}", name=f"Past {n}")
        for n in range(len(chats))
    )
    rows = Conversation.objects.bulk_create(
        Conversation(
            organization_id=channel.organization_id,
            project=channel.project,
            channel=channel,
            contact=contact,
            agent=chat["agent"],
            status=ConversationStatus.CLOSED,
            language="en",
            created_at=chat["opened"],
            queued_at=chat["opened"],
            assigned_at=chat["assigned"],
            closed_at=chat["closed"],
            outcome="Resolved",
        )
        for chat, contact in zip(chats, contacts, strict=True)
    )
    messages, events = [], []
    for chat, row in zip(chats, rows, strict=True):
        messages.append((row, Direction.IN, chat["opened"]))
        for n in range(chat["replies"]):
            messages.append((row, Direction.OUT, chat["reply"] + timedelta(seconds=90 * n)))
            messages.append((row, Direction.IN, chat["reply"] + timedelta(seconds=90 * n + 45)))
        events.append((row, EventKind.ASSIGNED, chat["assigned"]))
        if chat["transfer"]:
            events.append((row, EventKind.TRANSFERRED, chat["reply"] + timedelta(seconds=60)))
        events.append((row, EventKind.CLOSED, chat["closed"]))
    Message.objects.bulk_create(
        Message(
            conversation=row,
            channel=channel,
            direction=direction,
            text="…",
            status=MessageStatus.RECEIVED if direction == Direction.IN else MessageStatus.READ,
            sent_at=at,
            created_at=at,
        )
        for row, direction, at in messages
    )
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation=row, kind=kind, to_agent=row.agent, created_at=at)
        for row, kind, at in events
    )


def sign_in_as(page: Any, email: str) -> None:
    from conversations.demo import DEMO_PASSWORD

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dock/")


def photograph_supervision(browser: Any, url: str) -> None:
    """The reports over the last four weeks, and the planner after a forecast."""
    page = browser.new_page(viewport={"width": 1280, "height": 1100}, base_url=url)
    sign_in_as(page, SUPERVISOR)
    page.goto("/supervision/reports/")
    page.wait_for_selector("body[data-loaded=true]")
    page.wait_for_timeout(300)
    page.screenshot(path=str(REPORTS_OUTPUT), full_page=True)
    page.goto("/supervision/planning/")
    page.locator("#forecast-form").get_by_role("button", name="Forecast").click()
    page.wait_for_selector("#chart-staffing rect.bar")
    page.wait_for_timeout(300)
    page.screenshot(path=str(PLANNING_OUTPUT), full_page=True)
    page.close()


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
        page.emulate_media(color_scheme="light")
        photograph_quick_replies(page)

        page.get_by_role("textbox", name="Message").fill("")
        page.get_by_role("navigation", name="Open chats").get_by_role(
            "button", name="Sam Okafor"
        ).click()
        page.wait_for_function(
            "() => { const i = document.querySelector('#messages img.media-image');"
            " const a = document.querySelector('#messages audio');"
            " return i && i.complete && i.naturalWidth > 0 && a && a.duration > 0; }"
        )
        page.evaluate(
            "() => { const l = document.getElementById('messages'); l.scrollTop = l.scrollHeight; }"
        )
        page.wait_for_timeout(400)
        page.screenshot(path=str(MEDIA_OUTPUT))
        page.close()
        photograph_board(browser, url)
        photograph_supervision(browser, url)
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
    media_root = tempfile.mkdtemp(prefix="cxgear-screenshot-media-")
    server = None
    try:
        env = _scratch_env(scratch.create(), fake.graph_url, media_root)
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
        seed_history()
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
        for written in (
            OUTPUT,
            OUTPUT_DARK,
            QUICK_REPLIES_OUTPUT,
            MEDIA_OUTPUT,
            BOARD_OUTPUT,
            BOARD_DARK_OUTPUT,
            BOARD_PHONE_OUTPUT,
            REPORTS_OUTPUT,
            PLANNING_OUTPUT,
        ):
            print(f"wrote {written.relative_to(ROOT)}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        fake.stop()
        scratch.drop()
        shutil.rmtree(media_root, ignore_errors=True)


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
