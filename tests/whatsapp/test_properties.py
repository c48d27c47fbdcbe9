"""Whatever a signed body holds, the webhook answers 200 or a 400 with a JSON error, never a
500, and a refused body leaves nothing behind; whatever it answers 200 to, a worker
records, even one with far less stack left than the webhook had (``worker_stack``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.test import TestCase
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from channels_whatsapp.models import InboundDelivery
from channels_whatsapp.payload import KNOWN_TYPES
from channels_whatsapp.signature import HEADER, sign
from conversations.models import Contact, Conversation, Message
from tests.factories import ChannelFactory
from tests.whatsapp.worker_stack import WEBHOOK_FRAMES_LEFT, record_as_a_worker, with_frames_left

pytestmark = pytest.mark.django_db

PHONE_NUMBER_ID = "106540352242922"


@dataclass(frozen=True)
class Nested:
    """A value nested ``depth`` levels, written into the body as text by ``encode``: the
    test's own encoder would run out of stack first."""

    depth: int


# Text with what no database stores now and then: NUL and lone surrogates.
odd_text = st.text(
    alphabet=st.characters() | st.sampled_from(["\x00", "\ud800", "\udbff", "\udc00"]),
    max_size=30,
)
json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | odd_text
    # As deep as a delivery may nest, and far deeper.
    | (st.integers(min_value=1, max_value=56) | st.integers(min_value=57, max_value=950)).map(
        Nested
    )
)
any_json = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(odd_text, children, max_size=4)
    ),
    max_leaves=20,
)


odd_values = any_json | st.sampled_from(["0", "-1", "99999999999999", "1e9", " ", "", -3])


@st.composite
def maybe(draw, valid):
    """Mostly the valid value, now and then anything at all."""
    return draw(odd_values) if draw(st.integers(0, 11)) == 5 else draw(valid)


# Mostly plausible Unix seconds; ``maybe`` and the edges supply the rest.
timestamps = st.integers(min_value=1, max_value=2 * 10**9).map(str)
ids = odd_text.filter(str.strip) | st.text(min_size=1, max_size=300).filter(str.strip)
message_types = st.sampled_from(sorted(KNOWN_TYPES)) | st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=40
)


def as_is(valid):
    return valid


@st.composite
def messages(draw, maybe=maybe):
    kind = draw(message_types)
    message = {
        "from": draw(maybe(st.text(alphabet="0123456789", min_size=8, max_size=15))),
        "id": draw(maybe(ids)),
        "timestamp": draw(maybe(timestamps)),
        "type": draw(maybe(st.just(kind))),
        kind: draw(any_json),
    }
    if draw(st.booleans()):
        message["from_user_id"] = draw(maybe(st.text(min_size=1, max_size=140)))
    if draw(st.booleans()):
        message["context"] = draw(maybe(st.fixed_dictionaries({"id": st.text(max_size=300)})))
    if draw(st.booleans()):
        message["errors"] = draw(any_json)
    return {k: v for k, v in message.items() if v is not None or draw(st.booleans())}


def statuses(maybe=maybe):
    return st.fixed_dictionaries(
        {
            "id": maybe(ids),
            "status": maybe(st.sampled_from(["sent", "delivered", "read", "failed", "played"])),
            "timestamp": maybe(timestamps),
            "recipient_id": maybe(st.text(max_size=20)),
            "errors": any_json,
        }
    )


@st.composite
def deliveries(draw, maybe=maybe):
    """Cloud API deliveries, each part now and then replaced by anything at all; with
    ``maybe=as_is`` the envelope and the ids are right and only the content is odd."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": draw(
            maybe(
                st.fixed_dictionaries(
                    {"phone_number_id": st.sampled_from([PHONE_NUMBER_ID] * 4 + ["999"])}
                )
            )
        ),
        "contacts": draw(
            maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "profile": maybe(st.fixed_dictionaries({"name": odd_text})),
                            "wa_id": maybe(st.text(max_size=70)),
                        }
                    ),
                    max_size=3,
                )
            )
        ),
        "messages": draw(maybe(st.lists(messages(maybe), min_size=1, max_size=4))),
        "statuses": draw(maybe(st.lists(statuses(maybe), max_size=3))),
    }
    change = {"value": value, "field": draw(maybe(st.just("messages")))}
    return {
        "object": draw(maybe(st.just("whatsapp_business_account"))),
        "entry": draw(
            maybe(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "id": st.text(max_size=5),
                            "changes": maybe(st.lists(st.just(change), min_size=1, max_size=2)),
                        }
                    ),
                    min_size=1,
                    max_size=2,
                )
            )
        ),
    }


def stored() -> tuple[int, int, int, int]:
    return (
        Message.objects.count(),
        Contact.objects.count(),
        Conversation.objects.count(),
        InboundDelivery.objects.count(),
    )


def encode(document, raw_utf8: bool = False) -> bytes:
    """The body Meta would send (ASCII, every escape written out), or the same in raw
    UTF-8 with surrogates as their bytes; ``Nested`` values written out in place."""
    text = json.dumps(document, ensure_ascii=not raw_utf8, default=lambda n: f"<{n.depth}>")
    text = re.sub(r'"<(\d+)>"', lambda m: "[" * int(m[1]) + "]" * int(m[1]), text)
    return text.encode("utf-8", "surrogatepass")


def post_signed(client, channel, body: bytes):
    # The server's stack, not the test's; the worker records after, with its own.
    with TestCase.captureOnCommitCallbacks(execute=False):
        return with_frames_left(
            WEBHOOK_FRAMES_LEFT,
            lambda: client.post(
                f"/webhooks/whatsapp/{channel.key}/",
                data=body,
                content_type="application/json",
                headers={HEADER: sign(body, channel.app_secret)},
            ),
        )


def check(client, channel, body: bytes) -> None:
    before = stored()
    response = post_signed(client, channel, body)
    record_as_a_worker(channel.pk)
    assert response.status_code in (200, 400), response.content
    assert response["Content-Type"] == "application/json"
    event(f"answered {response.status_code}, stored something: {stored() != before}")
    if response.status_code == 400:
        assert response.json()["error"]
        assert stored() == before
    # Whatever was accepted was recorded, not left behind as a delivery that failed.
    assert not InboundDelivery.objects.exists()


@pytest.fixture
def channel(db):
    return ChannelFactory(phone_number_id=PHONE_NUMBER_ID)


PROPERTY = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(document=any_json, raw_utf8=st.booleans())
def test_arbitrary_json_never_makes_a_500(client, channel, document, raw_utf8):
    check(client, channel, encode(document, raw_utf8))


@PROPERTY
@given(document=deliveries(), raw_utf8=st.booleans())
def test_almost_right_deliveries_never_make_a_500(client, channel, document, raw_utf8):
    check(client, channel, encode(document, raw_utf8))


@PROPERTY
@given(document=deliveries(maybe=as_is), raw_utf8=st.booleans())
def test_what_the_webhook_accepts_a_worker_records_whatever_the_content(
    client, channel, document, raw_utf8
):
    check(client, channel, encode(document, raw_utf8))


@PROPERTY
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes_never_make_a_500(client, channel, body):
    check(client, channel, body)
