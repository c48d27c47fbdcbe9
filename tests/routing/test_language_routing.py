"""A chat's language, told from the customer's first words, decides who gets it."""

from __future__ import annotations

from itertools import count

import pytest
from django.utils import timezone

from channels_whatsapp.simulator import TEXTS
from conversations.demo import bootstrap_demo
from conversations.messaging import InboundMessage, delivery_record
from conversations.models import (
    Conversation,
    ConversationEvent,
    EventKind,
    LanguageSource,
    Rule,
)
from presence.models import AgentPresence, PresenceStatus
from routing.services import conversation_update

pytestmark = pytest.mark.django_db

_wamids = count(1)


def customer_writes(channel, wa_id: str, text: str) -> Conversation:
    delivery_record(
        channel=channel,
        messages=[
            InboundMessage(
                wamid=f"wamid.LANG{next(_wamids):06d}",
                wa_id=wa_id,
                user_id=None,
                profile_name="A customer",
                sent_at=timezone.now(),
                type="text",
                text=text,
            )
        ],
    )
    return Conversation.objects.get(contact__wa_id=wa_id, status__in=["queued", "assigned"])


@pytest.fixture
def detecting(desk):
    desk.channel.detect_language = True
    desk.channel.save(update_fields=["detect_language"])
    return desk


def test_a_german_customer_reaches_the_agent_who_speaks_german(
    detecting, django_capture_on_commit_callbacks
):
    detecting.agent(languages=["en", "es"])
    dev = detecting.agent(languages=["en", "de"])

    with django_capture_on_commit_callbacks(execute=True):
        chat = customer_writes(
            detecting.channel, "4915100000001", "Hallo, mein Internet geht nicht"
        )

    chat.refresh_from_db()
    assert (chat.language, chat.language_source, chat.agent_id) == ("de", "detected", dev.pk)
    assigned = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
    assert assigned.data["language"]["rule"] == "detected"
    assert assigned.data["language"]["confidence"] >= 0.95
    detected = ConversationEvent.objects.get(conversation=chat, rule=Rule.LANGUAGE_DETECTED)
    assert detected.data["language"] == ["en", "de"]


def test_an_unsure_first_message_keeps_the_channels_default_and_the_next_one_decides(
    detecting,
):
    detecting.agent(languages=["en", "fr"], presence="busy")

    chat = customer_writes(detecting.channel, "3360000001", "ok")
    assert (chat.language, chat.language_source) == ("en", LanguageSource.DEFAULT)

    chat = customer_writes(detecting.channel, "3360000001", "Bonjour, ma box ne marche plus")
    assert (chat.language, chat.language_source) == ("fr", LanguageSource.DETECTED)


def test_a_channel_that_does_not_detect_keeps_its_default(desk):
    desk.agent(languages=["en", "de"])

    chat = customer_writes(desk.channel, "4915100000002", "Hallo, mein Internet geht nicht")

    assert (chat.language, chat.language_source) == ("en", LanguageSource.DEFAULT)


def test_a_language_set_by_a_person_is_not_detected_again_and_routing_says_so(
    detecting, django_capture_on_commit_callbacks
):
    detecting.agent(languages=["en", "es"], presence="busy")
    chat = customer_writes(detecting.channel, "3460000001", "ok")
    conversation_update(conversation=chat, actor=detecting.supervisor, language="es")
    ana = detecting.agent(languages=["en", "es"])

    with django_capture_on_commit_callbacks(execute=True):
        chat = customer_writes(detecting.channel, "3460000001", "Hello, I need help with my bill")

    chat.refresh_from_db()
    assert (chat.language, chat.language_source, chat.agent_id) == ("es", "person", ana.pk)
    assigned = ConversationEvent.objects.get(conversation=chat, kind=EventKind.ASSIGNED)
    assert assigned.data["language"] == {"language": "es", "rule": "person"}


def test_the_demos_german_spanish_and_french_customers_reach_agents_who_speak_it(
    django_capture_on_commit_callbacks,
):
    _, channel, members = bootstrap_demo()
    AgentPresence.objects.filter(membership__in=members).exclude(membership__role="admin").update(
        status=PresenceStatus.AVAILABLE
    )
    speakers = {m.user.email.split("@")[0]: m for m in members}

    reached = {}
    for language, wa_id in (("de", "4915200000001"), ("es", "3460000009"), ("fr", "3360000009")):
        with django_capture_on_commit_callbacks(execute=True):
            chat = customer_writes(channel, wa_id, TEXTS[language][0])
        chat.refresh_from_db()
        assert chat.language == language
        reached[language] = chat.agent.user.email.split("@")[0]

    assert reached["de"] == "dev" and reached["fr"] == "chloe"
    assert reached["es"] in ("ana", "supervisor")
    assert "es" in speakers[reached["es"]].languages
