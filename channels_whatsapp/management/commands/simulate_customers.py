"""``manage.py simulate_customers --url URL --channel ID --rate R --duration S``

Made-up customers write to a channel's number: correctly signed webhook deliveries, at
``R`` per second for ``S`` seconds, posted to the server at ``URL``. Prints a summary."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from channels_whatsapp.simulator import simulate
from conversations.models import Channel, ChannelKind


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Send signed WhatsApp webhook deliveries from made-up customers to a running server."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url",
            required=True,
            help="the server's base URL (e.g. http://127.0.0.1:8000) or the full webhook URL",
        )
        parser.add_argument("--channel", type=int, required=True, help="the channel's id")
        parser.add_argument("--rate", type=_positive, default=1.0, help="deliveries per second")
        parser.add_argument("--duration", type=_positive, default=60.0, help="seconds to run")
        parser.add_argument("--seed", type=int, help="repeat the same customers and texts")
        parser.add_argument(
            "--fake-cloud",
            help="the fake Cloud API's base URL: customers answer some templates sent there",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        channel = Channel.objects.filter(pk=options["channel"], kind=ChannelKind.WHATSAPP).first()
        if channel is None:
            raise CommandError(f"no WhatsApp channel with id {options['channel']}")
        url = options["url"].rstrip("/")
        if "/webhooks/whatsapp/" not in url:
            url = f"{url}/webhooks/whatsapp/{channel.key}"
        url += "/"
        self.stdout.write(
            f"customers write to {channel} at {options['rate']}/s for {options['duration']}s"
        )
        self.stdout.flush()
        summary = simulate(
            webhook_url=url,
            app_secret=channel.app_secret,
            phone_number_id=channel.phone_number_id,
            display_phone_number="".join(ch for ch in channel.display_phone_number if ch.isdigit()),
            rate=options["rate"],
            duration=options["duration"],
            seed=options["seed"],
            fake_cloud_url=options["fake_cloud"],
        )
        for line in summary.lines():
            self.stdout.write(line)
