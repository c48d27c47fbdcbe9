"""A short shift on the embedded mode, run by ``test_embedded.py`` in a process of its own
(SQLite, no Redis): prints one JSON line with what routing did."""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")
django.setup()

from django.utils import timezone  # noqa: E402

from conversations.demo import bootstrap_demo  # noqa: E402
from conversations.messaging import InboundMessage, delivery_record  # noqa: E402
from conversations.models import (  # noqa: E402
    Channel,
    Conversation,
    ConversationEvent,
    Membership,
)
from presence.services import presence_set  # noqa: E402
from routing.services import conversation_close  # noqa: E402


def customer_writes(channel: Channel, wamid: str) -> Conversation:
    delivery_record(
        channel=channel,
        messages=[
            InboundMessage(
                wamid=wamid,
                wa_id="447700900555",
                user_id=None,
                profile_name="Embedded Customer",
                sent_at=timezone.now(),
                type="text",
                text="Hello",
                media={},
            )
        ],
    )
    return Conversation.objects.filter(contact__wa_id="447700900555").latest("pk")


_organization, channel, _agents = bootstrap_demo()
ana = Membership.objects.get(user__email="ana@demo.cxgear.test")
presence_set(member=ana, status="available", source="dock")
first = customer_writes(channel, "wamid.EMBEDDED1")
conversation_close(conversation=first, actor=ana, outcome="Answered")
again = customer_writes(channel, "wamid.EMBEDDED2")
print(
    json.dumps(
        {
            "agents": [first.agent_id, again.agent_id, ana.pk],
            "status": again.status,
            "rules": [
                e.rule for e in ConversationEvent.objects.filter(kind="assigned").order_by("pk")
            ],
            "open": Membership.objects.get(pk=ana.pk).open_conversations,
        }
    )
)
