"""``manage.py fake_cloud_api --port P [--webhook-url URL --app-secret S | --channel ID]``

Serves the local stand-in for the WhatsApp Cloud API until stopped. Point
``WHATSAPP_GRAPH_URL`` at the printed URL. With a webhook URL and app secret (or a
channel id, from which both are read) it reports sent, delivered and read back."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_whatsapp.fake_cloud import FakeCloudApi
from conversations.models import Channel


class Command(BaseCommand):
    help = "Serve a local fake of the WhatsApp Cloud API (for the demo and tests)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument(
            "--webhook-url",
            help="where to post status webhooks: the channel's full webhook URL, or with "
            "--channel the server's base URL",
        )
        parser.add_argument("--app-secret", help="signs the status webhooks")
        parser.add_argument(
            "--channel", type=int, help="read the webhook key and app secret from this channel"
        )
        parser.add_argument("--access-token", help="accept only this bearer token")
        parser.add_argument(
            "--status-delay",
            type=float,
            default=1.0,
            help="seconds between an accepted message and each of its status webhooks",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        webhook_url = options["webhook_url"]
        app_secret = options["app_secret"]
        if options["channel"] is not None:
            channel = Channel.objects.filter(pk=options["channel"]).first()
            if channel is None:
                raise CommandError(f"no channel with id {options['channel']}")
            base = (webhook_url or settings.PUBLIC_BASE_URL).rstrip("/")
            webhook_url = f"{base}/webhooks/whatsapp/{channel.key}/"
            app_secret = app_secret or channel.app_secret
        if webhook_url and not app_secret:
            raise CommandError("--webhook-url needs --app-secret (or --channel) to sign with")
        try:
            fake = FakeCloudApi(
                host=options["host"],
                port=options["port"],
                access_token=options["access_token"],
                webhook_url=webhook_url,
                app_secret=app_secret,
                status_delay=options["status_delay"],
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from exc
        signal.signal(signal.SIGTERM, _interrupt)
        self.stdout.write(f"fake WhatsApp Cloud API on {fake.graph_url}", ending="\n")
        if webhook_url:
            self.stdout.write(f"status webhooks go to {webhook_url}")
        self.stdout.flush()
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("fake WhatsApp Cloud API stopped")


def _interrupt(*_: Any) -> None:
    raise KeyboardInterrupt
