"""The WhatsApp webhook: what Meta posts is stored once, in order, under the right
conversation; what is not Meta's is refused and leaves no trace."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from channels_whatsapp.models import InboundDelivery
from conversations.media_kinds import OWN_KEYS
from conversations.models import (
    Contact,
    Conversation,
    ConversationEvent,
    ConversationStatus,
    Direction,
    DockEvent,
    Message,
    MessageStatus,
)
from dock.dock import FRAME_BYTES, encoded_size
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MembershipFactory,
    MessageFactory,
)
from tests.whatsapp import payloads as p

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def routing_requests(monkeypatch):
    """What the webhook asked routing to do (routing itself is another module's job)."""
    calls: list[int] = []
    monkeypatch.setattr(
        "conversations.messaging.request_routing",
        lambda *, organization_id: calls.append(organization_id),
    )
    return calls


def nothing_stored() -> bool:
    return not (
        Message.objects.exists() or Contact.objects.exists() or Conversation.objects.exists()
    )


# --- verification handshake -------------------------------------------------------------


def test_meta_subscribing_with_the_verify_token_gets_its_challenge_back(client, channel):
    response = client.get(
        f"/webhooks/whatsapp/{channel.key}/",
        {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"


def test_a_wrong_verify_token_is_refused(client, channel):
    response = client.get(
        f"/webhooks/whatsapp/{channel.key}/",
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_an_unknown_webhook_key_is_not_found(client, post, channel):
    response = client.get("/webhooks/whatsapp/not-a-key/", {"hub.mode": "subscribe"})
    assert response.status_code == 404
    assert response.json()["error"]


# --- signatures and bad input -----------------------------------------------------------


def test_a_delivery_without_signature_is_refused_and_nothing_is_stored(post, channel):
    response = post(channel, p.inbound(channel, "text", p.text()), signed=False)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]
    assert nothing_stored()


def test_a_delivery_signed_with_another_secret_is_refused(post, channel):
    response = post(channel, p.inbound(channel, "text", p.text()), secret="someone-else")
    assert response.status_code == 401
    assert nothing_stored()


def test_a_body_changed_after_signing_is_refused(post, channel):
    from channels_whatsapp.signature import sign

    original = json.dumps(p.inbound(channel, "text", p.text("hello"))).encode()
    tampered = original.replace(b"hello", b"HELLO")
    response = post(channel, raw=tampered, signature=sign(original, channel.app_secret))
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize(
    "header", ["", "sha256=", "sha1=0123456789abcdef", "sha256=zz", "sha256=" + "0" * 64]
)
def test_malformed_signatures_are_refused(post, channel, header):
    response = post(channel, p.inbound(channel, "text", p.text()), signature=header or " ")
    assert response.status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"not json", b'{"object": NaN}', b"[1e999]", b"\xff\xfe", b"[" * 100_000]
)
def test_broken_json_is_a_400_with_a_json_error(post, channel, raw):
    response = post(channel, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == "the body is not valid JSON"
    assert nothing_stored()


def _without_id(channel):
    payload = p.inbound(channel, "text", p.text())
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    return payload


def _without_customer(channel):
    payload = p.inbound(channel, "text", p.text())
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    return payload


def _bad_timestamp(channel):
    payload = p.inbound(channel, "text", p.text())
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = "yesterday"
    return payload


@pytest.mark.parametrize(
    ("build", "detail"),
    [
        (lambda c: [], "JSON object"),
        (lambda c: {"object": "page", "entry": []}, "whatsapp_business_account"),
        (lambda c: {"object": "whatsapp_business_account"}, "entry must be a list"),
        (lambda c: {"object": "whatsapp_business_account", "entry": [{}]}, "changes"),
        (lambda c: p.delivery("text"), "must be an object"),  # type: ignore[arg-type]
        (lambda c: p.delivery({"messages": []}), "phone_number_id"),
        (_without_id, "messages[0].id"),
        (_without_customer, '"from" or "from_user_id"'),
        (_bad_timestamp, "timestamp"),
    ],
)
def test_a_delivery_of_the_wrong_shape_is_a_400_naming_what_is_wrong(post, channel, build, detail):
    response = post(channel, build(channel))
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert nothing_stored()


def test_one_bad_message_in_a_batch_stores_none_of_the_batch(post, channel):
    good = p.message("text", p.text("fine"))
    bad = p.message("text", p.text("broken"))
    bad["timestamp"] = -5
    response = post(
        channel, p.delivery(p.value(channel, contacts=[p.contact()], messages=[good, bad]))
    )
    assert response.status_code == 400
    assert "messages[1].timestamp" in response.json()["detail"]
    assert nothing_stored()


# --- every kind of message --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("text", "Does it come in another color?"),
        ("image", "Here is the broken part"),
        ("audio", ""),
        ("video", "The router when I switch it on"),
        ("document", "My last invoice"),
        ("sticker", ""),
        ("location", "Main office"),
        ("contacts", "Barbara J. Johnson"),
    ],
)
def test_each_message_type_is_stored_with_its_text_and_content(post, channel, kind, text):
    payload = p.inbound(channel, kind, p.CONTENTS[kind])
    sent = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    response = post(channel, payload)
    assert response.status_code == 200
    message = Message.objects.get()
    assert message.wamid == sent["id"]
    assert message.direction == Direction.IN
    assert message.status == MessageStatus.RECEIVED
    assert message.type == kind
    assert message.text == text
    assert message.sent_at == datetime.fromtimestamp(int(sent["timestamp"]), tz=UTC)
    if kind in ("image", "audio", "video", "document", "sticker"):
        # Meta's own url is never kept: the file is fetched by its id and served by the API.
        sent_media = {k: v for k, v in p.CONTENTS[kind].items() if k != "url"}
        assert {k: v for k, v in message.media.items() if k not in OWN_KEYS} == sent_media
        assert message.media["state"] in ("pending", "failed")
    if kind == "location":
        assert message.media == p.CONTENTS[kind]
    if kind == "contacts":
        assert message.media == {"contacts": p.CONTENTS["contacts"]}


@pytest.mark.parametrize(
    ("encode", "sent", "stored"),
    [
        # As Meta escapes them (ASCII only), and as raw UTF-8 or UTF-16 bodies.
        (lambda d: json.dumps(d).encode(), "caf\u00e9 \U0001f600", "caf\u00e9 \U0001f600"),
        (lambda d: json.dumps(d).encode(), "no\x00 nul \ud800", "no nul ?"),
        (
            lambda d: json.dumps(d, ensure_ascii=False).encode(),
            "caf\u00e9 \U0001f600",
            "caf\u00e9 \U0001f600",
        ),
        (lambda d: json.dumps(d).encode("utf-16"), "no\x00 nul", "no nul"),
        # A surrogate written as raw UTF-8 bytes rather than escaped.
        (
            lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass"),
            "lone \ud800",
            "lone ?",
        ),
    ],
)
def test_a_text_is_stored_as_written_but_for_what_no_database_stores(
    post, channel, encode, sent, stored
):
    response = post(channel, raw=encode(p.inbound(channel, "text", p.text(sent))))
    assert response.status_code == 200
    assert Message.objects.get().text == stored


@pytest.mark.parametrize(
    ("content", "title"), [(p.button_reply(), "Yes, renew"), (p.list_reply(), "Tuesday morning")]
)
def test_interactive_replies_keep_the_chosen_option(post, channel, content, title):
    earlier = p.wamid()
    post(
        channel,
        p.inbound(channel, "interactive", content, context={"from": "15550783881", "id": earlier}),
    )
    message = Message.objects.get()
    assert (message.type, message.text, message.context_wamid) == ("interactive", title, earlier)
    assert message.media == content


def test_a_template_quick_reply_button_is_stored_with_its_payload(post, channel):
    template = p.wamid()
    post(
        channel,
        p.inbound(
            channel,
            "button",
            {"payload": "RENEW_NOW", "text": "Renew now"},
            context={"from": "15550783881", "id": template},
        ),
    )
    message = Message.objects.get()
    assert (message.type, message.text, message.context_wamid) == ("button", "Renew now", template)
    assert message.media["payload"] == "RENEW_NOW"


def test_a_reaction_is_kept_on_the_message_it_reacts_to_not_as_a_message(post, channel):
    reacted = MessageFactory(conversation=ConversationFactory(channel=channel))
    post(
        channel,
        p.inbound(channel, "reaction", {"message_id": reacted.wamid, "emoji": "\U0001f44d"}),
    )
    assert Message.objects.get() == reacted
    reacted.refresh_from_db()
    assert reacted.reaction == "\U0001f44d"


def test_a_reply_to_an_earlier_message_keeps_its_context(post, channel):
    earlier = p.wamid()
    post(
        channel,
        p.inbound(channel, "text", p.text("yes"), context={"from": "15550783881", "id": earlier}),
    )
    assert Message.objects.get().context_wamid == earlier


def test_an_unsupported_message_is_kept_and_shown_as_such(post, channel):
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact()],
            messages=[
                {
                    "from": p.CUSTOMER,
                    "id": p.wamid(),
                    "timestamp": p.now(),
                    "errors": errors,
                    "type": "unsupported",
                    "unsupported": {"type": "edit"},
                }
            ],
        )
    )
    assert post(channel, payload).status_code == 200
    message = Message.objects.get()
    assert message.type == "unsupported"
    assert message.error == {
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
    }
    assert message.media == {"type": "edit"}


def test_a_message_type_we_do_not_know_yet_is_kept_as_unsupported(post, channel):
    post(channel, p.inbound(channel, "poll_vote", {"option": 2}))
    message = Message.objects.get()
    assert message.type == "unsupported"
    assert message.media == {"original_type": "poll_vote", "option": 2}


def huge(size: int) -> str:
    """Text of about ``size`` bytes in a raw UTF-8 body that JSON escaping makes as long
    as it gets when sent to the dock: astral characters (twelve bytes each, as a
    surrogate pair) and control characters (six)."""
    return ("\U0001f600\x01" * size)[: size // 5]


KB_300 = 300_000


def junk() -> dict[str, object]:
    """An object of about 300 KB: many keys, long strings, deep lists."""
    deep: object = huge(1000)
    for _ in range(30):
        deep = [deep, huge(1000)]
    return {
        **{f"key {n} {huge(200)}": huge(2000) for n in range(100)},
        "deep": deep,
        "many": [huge(100) for _ in range(200)],
    }


@pytest.mark.parametrize(
    ("kind", "content", "limit"),
    [
        ("text", {"body": huge(KB_300), **junk()}, 4096),
        ("image", {"id": "1", "caption": huge(KB_300), **junk()}, 1024),
        ("document", {"id": "1", "filename": huge(KB_300), **junk()}, None),
        ("location", {"name": huge(KB_300), "latitude": 1.5, **junk()}, 4096),
        ("contacts", [{"name": {"formatted_name": huge(KB_300)}}, junk()], 4096),
        (
            "interactive",
            {"type": "list_reply", "list_reply": {"title": huge(KB_300), **junk()}},
            4096,
        ),
        ("poll_vote", {"question": huge(KB_300), **junk()}, None),
    ],
)
def test_one_huge_message_still_fits_one_frame_of_the_dock(post, channel, kind, content, limit):
    agent = MembershipFactory(organization=channel.organization)
    ConversationFactory(
        channel=channel,
        contact=ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER),
        agent=agent,
    )
    payload = p.inbound(channel, kind, content)
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["errors"] = [
        {"code": 1, "title": huge(KB_300 // 2), "message": huge(KB_300 // 2)}
    ]
    body = json.dumps(payload, ensure_ascii=False).encode()
    assert 2 * KB_300 < len(body) < 2_500_000

    assert post(channel, raw=body).status_code == 200

    [event] = DockEvent.objects.filter(membership=agent, type="message.created")
    frame = {"type": event.type, "seq": event.seq, "data": event.data}
    assert encoded_size(frame) < FRAME_BYTES
    if limit is not None:
        text = Message.objects.get().text
        assert (len(text), text[-1]) == (limit, "\u2026")


def test_value_level_errors_are_accepted_and_store_nothing(post, channel):
    value = p.value(channel)
    value["errors"] = [
        {
            "code": 131000,
            "title": "Something went wrong",
            "message": "Something went wrong",
            "error_data": {"details": "Unable to retrieve media."},
        }
    ]
    assert post(channel, p.delivery(value)).status_code == 200
    assert nothing_stored()


def test_updates_of_other_webhook_fields_are_accepted_and_ignored(post, channel):
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": p.BUSINESS_ACCOUNT_ID,
                "changes": [
                    {
                        "value": {"event": "APPROVED", "message_template_name": "renewal"},
                        "field": "message_template_status_update",
                    }
                ],
            }
        ],
    }
    assert post(channel, payload).status_code == 200
    assert nothing_stored()


# --- customers and conversations --------------------------------------------------------


def test_a_new_customer_opens_a_queued_conversation_under_the_channels_project(
    post, channel, routing_requests
):
    post(channel, p.inbound(channel, "text", p.text()))
    conversation = Conversation.objects.get()
    assert conversation.status == ConversationStatus.QUEUED
    assert conversation.project == channel.project
    assert conversation.channel == channel
    assert conversation.language == "en"
    assert conversation.required_skills == ["renewals"]
    assert conversation.unread_count == 1
    assert conversation.last_inbound_at == Message.objects.get().sent_at
    assert conversation.contact.wa_id == p.CUSTOMER
    assert conversation.contact.name == p.CUSTOMER_NAME
    assert ConversationEvent.objects.filter(
        conversation=conversation, kind="opened", rule="inbound"
    ).exists()
    assert routing_requests == [channel.organization_id]


def test_a_known_customer_brings_their_language_to_the_new_conversation(post, channel):
    ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER, language="es")
    post(channel, p.inbound(channel, "text", p.text("Hola")))
    assert Conversation.objects.get().language == "es"


def test_a_returning_customer_continues_their_open_conversation(post, channel):
    post(channel, p.inbound(channel, "text", p.text("first")))
    post(channel, p.inbound(channel, "text", p.text("second")))
    conversation = Conversation.objects.get()
    assert conversation.messages.count() == 2
    assert conversation.unread_count == 2
    assert ConversationEvent.objects.filter(kind="opened").count() == 1


def test_after_a_closed_conversation_the_customer_opens_a_new_one(post, channel):
    contact = ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER)
    closed = ConversationFactory(channel=channel, contact=contact, status=ConversationStatus.CLOSED)
    post(channel, p.inbound(channel, "text", p.text()))
    new = Conversation.objects.exclude(pk=closed.pk).get()
    assert new.status == ConversationStatus.QUEUED
    assert new.contact == contact
    assert not closed.messages.exists()


def test_a_customer_with_a_username_is_known_by_their_business_scoped_user_id(post, channel):
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact(wa_id=None, user_id=p.BSUID, name="Maria")],
            messages=[p.message("text", p.text("hi"), sender=None, from_user_id=p.BSUID)],
        )
    )
    assert post(channel, payload).status_code == 200
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id, contact.name) == (None, p.BSUID, "Maria")
    assert Conversation.objects.get().contact == contact


def test_a_customer_seen_by_number_who_gets_a_user_id_stays_one_contact(post, channel):
    post(channel, p.inbound(channel, "text", p.text("by number")))
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact(user_id=p.BSUID)],
            messages=[p.message("text", p.text("both ids"), from_user_id=p.BSUID)],
        )
    )
    post(channel, payload)
    contact = Contact.objects.get()
    assert (contact.wa_id, contact.user_id) == (p.CUSTOMER, p.BSUID)
    assert Conversation.objects.get().messages.count() == 2


def test_a_customer_who_renamed_themselves_shows_their_new_name(post, channel):
    ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER, name="Old Name")
    post(channel, p.inbound(channel, "text", p.text()))
    assert Contact.objects.get().name == p.CUSTOMER_NAME


def test_a_message_to_an_assigned_conversation_reaches_its_agent(post, channel, routing_requests):
    agent = MembershipFactory(organization=channel.organization)
    contact = ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER)
    conversation = ConversationFactory(channel=channel, contact=contact, agent=agent)
    post(channel, p.inbound(channel, "text", p.text("still there?")))
    events = list(DockEvent.objects.filter(membership=agent).order_by("seq"))
    assert [e.type for e in events] == ["message.created", "conversation.updated"]
    assert events[0].data["text"] == "still there?"
    assert events[0].data["conversation"] == conversation.pk
    assert events[1].data["unread_count"] == 1
    assert routing_requests == []


# --- batches, replays, order ------------------------------------------------------------


def test_every_entry_change_and_message_of_a_batch_is_stored(post, channel):
    customers = [f"4479000000{n:02d}" for n in range(6)]

    def value_for(numbers):
        return p.value(
            channel,
            contacts=[p.contact(wa_id=n, name=f"Customer {n}") for n in numbers],
            messages=[p.message("text", p.text(f"from {n}"), sender=n) for n in numbers]
            + [p.message("text", p.text(f"again {n}"), sender=n) for n in numbers],
        )

    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": p.BUSINESS_ACCOUNT_ID,
                "changes": [
                    {"value": value_for(customers[0:2]), "field": "messages"},
                    {"value": value_for(customers[2:3]), "field": "messages"},
                ],
            },
            {
                "id": p.BUSINESS_ACCOUNT_ID,
                "changes": [{"value": value_for(customers[3:6]), "field": "messages"}],
            },
        ],
    }
    response = post(channel, payload)
    assert response.status_code == 200
    assert response.json() == {"received": {"messages": 12, "statuses": 0}}
    assert Message.objects.count() == 12
    assert Conversation.objects.count() == 6
    for number in customers:
        conversation = Conversation.objects.get(contact__wa_id=number)
        assert conversation.unread_count == 2
        assert conversation.contact.name == f"Customer {number}"


def test_a_large_batch_from_returning_customers_takes_few_queries(
    post, channel, django_assert_max_num_queries
):
    numbers = [f"4479111111{n:02d}" for n in range(5)]
    post(
        channel,
        p.delivery(
            p.value(
                channel,
                contacts=[p.contact(wa_id=n) for n in numbers],
                messages=[p.message("text", p.text("hello"), sender=n) for n in numbers],
            )
        ),
    )
    messages = [p.message("text", p.text(f"line {i}"), sender=numbers[i % 5]) for i in range(300)]
    payload = p.delivery(
        p.value(channel, contacts=[p.contact(wa_id=n) for n in numbers], messages=messages)
    )
    with django_assert_max_num_queries(15):
        post(channel, payload)
    assert Message.objects.count() == 305


def test_a_batch_from_many_new_customers_makes_them_in_a_few_statements(
    post, channel, django_assert_max_num_queries
):
    numbers = [f"4479222222{n:02d}" for n in range(40)]
    by_phone = [p.message("text", p.text("hi"), sender=n) for n in numbers[:30]]
    by_user_id = [
        p.message("text", p.text("hi"), sender=None, from_user_id=f"US.{n}") for n in numbers[30:]
    ]
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact(wa_id=n, name=f"Customer {n}") for n in numbers[:30]]
            + [p.contact(wa_id=None, user_id=f"US.{n}", name=f"User {n}") for n in numbers[30:]],
            messages=by_phone + by_user_id,
        )
    )
    with django_assert_max_num_queries(20):
        post(channel, payload)
    assert Contact.objects.count() == 40
    assert Conversation.objects.filter(status=ConversationStatus.QUEUED).count() == 40
    assert Contact.objects.get(user_id="US.447922222235").name == "User 447922222235"


def test_a_repeated_delivery_stores_nothing_twice(post, channel):
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact()],
            messages=[p.message("text", p.text("one")), p.message("text", p.text("two"))],
        )
    )
    first = post(channel, payload)
    second = post(channel, payload)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"received": {"messages": 2, "statuses": 0}}
    assert Message.objects.count() == 2
    assert Conversation.objects.get().unread_count == 2


def test_a_delivery_overlapping_an_earlier_one_stores_only_what_is_new(post, channel):
    old = p.message("text", p.text("old"))
    post(channel, p.delivery(p.value(channel, contacts=[p.contact()], messages=[old])))
    new = p.message("text", p.text("new"))
    post(channel, p.delivery(p.value(channel, contacts=[p.contact()], messages=[old, new])))
    assert list(Message.objects.values_list("text", flat=True)) == ["old", "new"]


def test_deliveries_out_of_order_are_threaded_by_the_customers_own_time(post, channel):
    base = int(timezone.now().timestamp())
    later = p.message("text", p.text("second"), timestamp=str(base + 30))
    earlier = p.message("text", p.text("first"), timestamp=str(base))
    post(channel, p.delivery(p.value(channel, contacts=[p.contact()], messages=[later])))
    post(channel, p.delivery(p.value(channel, contacts=[p.contact()], messages=[earlier])))
    conversation = Conversation.objects.get()
    assert [m.text for m in conversation.messages.all()] == ["first", "second"]
    assert conversation.last_inbound_at == datetime.fromtimestamp(base + 30, tz=UTC)


def test_a_delivery_for_another_phone_number_id_is_not_stored(post, channel):
    payload = p.delivery(
        p.value(
            channel,
            contacts=[p.contact()],
            messages=[p.message("text", p.text())],
            phone_number_id="999999999999999",
        )
    )
    assert post(channel, payload).status_code == 200
    assert nothing_stored()


def test_only_the_channels_own_values_of_a_mixed_delivery_are_stored(post, channel):
    ours = p.value(channel, contacts=[p.contact()], messages=[p.message("text", p.text("ours"))])
    theirs = p.value(
        channel,
        contacts=[p.contact()],
        messages=[p.message("text", p.text("theirs"))],
        phone_number_id="999999999999999",
    )
    post(channel, p.delivery(ours, theirs))
    assert list(Message.objects.values_list("text", flat=True)) == ["ours"]


def test_the_same_wamid_on_two_channels_is_two_messages(post, channel):
    other = ChannelFactory(organization=channel.organization, project=channel.project)
    message = p.message("text", p.text())
    for target in (channel, other):
        post(target, p.delivery(p.value(target, contacts=[p.contact()], messages=[message])))
    assert Message.objects.filter(wamid=message["id"]).count() == 2


# --- statuses of our messages -----------------------------------------------------------


@pytest.fixture
def outbound(channel):
    agent = MembershipFactory(organization=channel.organization)
    conversation = ConversationFactory(channel=channel, agent=agent)
    return MessageFactory(
        conversation=conversation,
        direction=Direction.OUT,
        status=MessageStatus.SENT,
        sender=agent,
        wamid=p.wamid(),
    )


def post_statuses(post, channel, *statuses):
    return post(channel, p.delivery(p.value(channel, statuses=list(statuses))))


@pytest.mark.parametrize("state", ["delivered", "read"])
def test_a_status_moves_our_message_forward(post, channel, outbound, state):
    response = post_statuses(post, channel, p.status(outbound.wamid, state))
    assert response.json() == {"received": {"messages": 0, "statuses": 1}}
    outbound.refresh_from_db()
    assert outbound.status == state
    event = DockEvent.objects.get(membership=outbound.conversation.agent)
    assert (event.type, event.data["status"], event.data["id"]) == (
        "message.status",
        state,
        outbound.pk,
    )


def test_sent_then_delivered_then_read_end_at_read(post, channel, outbound):
    for state in ("sent", "delivered", "read"):
        post_statuses(post, channel, p.status(outbound.wamid, state))
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ


def test_a_late_delivered_after_read_changes_nothing(post, channel, outbound):
    post_statuses(post, channel, p.status(outbound.wamid, "read"))
    post_statuses(post, channel, p.status(outbound.wamid, "delivered"))
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ


def test_statuses_batched_out_of_order_end_at_the_furthest(post, channel, outbound):
    t = int(timezone.now().timestamp())
    post_statuses(
        post,
        channel,
        p.status(outbound.wamid, "read", timestamp=str(t + 2)),
        p.status(outbound.wamid, "sent", timestamp=str(t)),
        p.status(outbound.wamid, "delivered", timestamp=str(t + 1)),
    )
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ
    assert outbound.status_changed_at == datetime.fromtimestamp(t + 2, tz=UTC)


def test_a_failed_status_keeps_the_cloud_api_error(post, channel, outbound):
    post_statuses(post, channel, p.status(outbound.wamid, "failed"))
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.FAILED
    assert outbound.error == {
        "code": 131026,
        "title": "Message undeliverable",
        "message": "Message undeliverable",
    }


def test_failed_is_final_and_does_not_undo_a_delivered_message(post, channel, outbound):
    post_statuses(post, channel, p.status(outbound.wamid, "failed"))
    post_statuses(post, channel, p.status(outbound.wamid, "read"))
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.FAILED

    outbound.status = MessageStatus.DELIVERED
    outbound.error = {}
    outbound.save()
    post_statuses(post, channel, p.status(outbound.wamid, "failed"))
    outbound.refresh_from_db()
    assert (outbound.status, outbound.error) == (MessageStatus.DELIVERED, {})


def test_a_status_for_a_message_we_never_sent_is_accepted_and_ignored(post, channel, outbound):
    response = post_statuses(post, channel, p.status(p.wamid(), "delivered"))
    assert response.status_code == 200
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.SENT
    assert not DockEvent.objects.exists()
    assert not InboundDelivery.objects.exists()


def test_a_status_for_another_phone_number_id_is_not_applied(post, channel, outbound):
    value = p.value(
        channel,
        statuses=[p.status(outbound.wamid, "read")],
        phone_number_id="999999999999999",
    )
    assert post(channel, p.delivery(value)).status_code == 200
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.SENT


def test_messages_and_statuses_of_one_delivery_are_all_applied(post, channel, outbound):
    payload = p.delivery(
        p.value(channel, statuses=[p.status(outbound.wamid, "read")]),
        p.value(channel, contacts=[p.contact()], messages=[p.message("text", p.text("thanks"))]),
    )
    assert post(channel, payload).json() == {"received": {"messages": 1, "statuses": 1}}
    outbound.refresh_from_db()
    assert outbound.status == MessageStatus.READ
    assert Message.objects.get(direction="in").text == "thanks"


def test_the_customers_last_message_time_never_moves_back(post, channel):
    now = timezone.now()
    contact = ContactFactory(organization=channel.organization, wa_id=p.CUSTOMER)
    conversation = ConversationFactory(channel=channel, contact=contact, last_inbound_at=now)
    old = str(int((now - timedelta(hours=2)).timestamp()))
    post(channel, p.inbound(channel, "text", p.text("from before"), timestamp=old))
    conversation.refresh_from_db()
    assert conversation.last_inbound_at == now
    assert conversation.unread_count == 1
