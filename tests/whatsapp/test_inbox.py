"""The webhook acknowledges a delivery by keeping it; recording it comes right after, in a
worker. Nothing acknowledged may be lost on the way."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_whatsapp import inbox, selectors
from channels_whatsapp.models import InboundDelivery
from channels_whatsapp.signature import HEADER, sign
from conversations.models import Message, Role
from tests.factories import PASSWORD, MembershipFactory
from tests.whatsapp import payloads as p
from tests.whatsapp.worker_stack import WEBHOOK_FRAMES_LEFT, record_as_a_worker, with_frames_left

pytestmark = pytest.mark.django_db


def text_delivery(channel, text: str, sender: str = p.CUSTOMER) -> dict:
    return p.delivery(
        p.value(
            channel,
            contacts=[p.contact(wa_id=sender)],
            messages=[p.message("text", p.text(text), sender=sender)],
        )
    )


def acknowledge(client, channel, payload: dict):
    """POST without running what the webhook hands on: the moment of the 200."""
    return acknowledge_to(client, channel.key, channel, payload)


def acknowledge_to(client, key: str, channel, payload: dict):
    return acknowledge_body(client, key, channel, json.dumps(payload).encode())


def acknowledge_body(client, key: str, channel, body: bytes):
    return client.post(
        f"/webhooks/whatsapp/{key}/",
        data=body,
        content_type="application/json",
        headers={HEADER: sign(body, channel.app_secret)},
    )


def texts() -> list[str]:
    return list(Message.objects.order_by("sent_at", "pk").values_list("text", flat=True))


def test_the_200_means_the_delivery_is_kept_and_recording_it_empties_the_inbox(client, channel):
    response = acknowledge(client, channel, text_delivery(channel, "my router is down"))

    assert response.status_code == 200
    kept = InboundDelivery.objects.get()
    assert json.loads(bytes(kept.body))["entry"][0]["changes"][0]["value"]["messages"]
    assert texts() == []

    assert inbox.deliveries_record(channel_id=channel.pk) == 1
    assert texts() == ["my router is down"]
    assert not InboundDelivery.objects.exists()


def test_keeping_a_delivery_writes_its_row_and_reads_nothing(channel):
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN " + inbox.KEEP_DELIVERY,
            {"channel": channel.pk, "body": b"{}", "now": timezone.now()},
        )
        plan = [row[0].split("  (")[0].strip() for row in cursor.fetchall()]

    assert plan == ["Insert on channels_whatsapp_inbounddelivery", "->  Result"]


def test_recording_after_the_200_runs_once_the_webhook_commits(
    client, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as hooks:
        acknowledge(client, channel, text_delivery(channel, "hello"))
    assert hooks, "the webhook hands its delivery on after commit"
    assert texts() == ["hello"]
    assert not InboundDelivery.objects.exists()


def test_many_deliveries_are_recorded_in_batches_in_the_order_they_came(client, channel):
    for n in range(7):
        acknowledge(client, channel, text_delivery(channel, f"line {n}", sender=f"4479000000{n}"))

    assert inbox.deliveries_record(channel_id=channel.pk, batch=3) == 7
    assert sorted(texts()) == [f"line {n}" for n in range(7)]
    assert not InboundDelivery.objects.exists()


def test_a_delivery_that_cannot_be_recorded_is_kept_with_its_error_and_holds_back_no_other(
    client, channel, monkeypatch
):
    for text in ("first", "poison", "last"):
        acknowledge(client, channel, text_delivery(channel, text))
    record = inbox.delivery_record

    def refuse_poison(*, channel, messages, statuses):
        if any(m.text == "poison" for m in messages):
            raise ValueError("cannot record this one")
        return record(channel=channel, messages=messages, statuses=statuses)

    monkeypatch.setattr(inbox, "delivery_record", refuse_poison)

    assert inbox.deliveries_record(channel_id=channel.pk) == 2
    assert texts() == ["first", "last"]
    left = InboundDelivery.objects.get()
    assert (left.attempts, left.last_error) == (1, "ValueError: cannot record this one")
    assert b"poison" in bytes(left.body)


def test_a_delivery_that_failed_too_often_is_left_for_a_person(client, channel):
    acknowledge(client, channel, text_delivery(channel, "stuck"))
    InboundDelivery.objects.update(attempts=inbox.MAX_ATTEMPTS)

    assert inbox.deliveries_record(channel_id=channel.pk) == 0
    assert InboundDelivery.objects.count() == 1
    assert texts() == []


def test_the_sweep_records_deliveries_whose_task_was_lost_and_leaves_fresh_ones(client, channel):
    acknowledge(client, channel, text_delivery(channel, "lost", sender="447900000001"))
    InboundDelivery.objects.update(received_at=timezone.now() - inbox.RECOVER_AFTER * 2)
    acknowledge(client, channel, text_delivery(channel, "just now", sender="447900000002"))

    assert inbox.deliveries_recover() == 1
    assert texts() == ["lost"]
    assert InboundDelivery.objects.get().received_at > timezone.now() - timedelta(seconds=5)


def test_a_delivery_with_nothing_to_record_is_answered_and_not_kept(client, channel):
    value = p.value(channel)
    value["errors"] = [{"code": 131000, "title": "Something went wrong"}]

    response = acknowledge(client, channel, p.delivery(value))

    assert response.json() == {"received": {"messages": 0, "statuses": 0}}
    assert not InboundDelivery.objects.exists()


def image_beside_a_text(channel, media: str, text: str) -> bytes:
    """A delivery of an image whose media object is the raw JSON ``media``, then a text.
    The envelope around the media object is eight levels deep."""
    image = p.message("image", "<media>")
    value = p.value(
        channel, contacts=[p.contact()], messages=[image, p.message("text", p.text(text))]
    )
    return json.dumps(p.delivery(value)).replace('"<media>"', media).encode()


def nested_media(depth: int) -> str:
    return '{"id": ' * depth + '"1309"' + "}" * depth


def test_a_message_nested_950_deep_is_refused_up_front_and_nothing_is_kept(client, channel):
    body = image_beside_a_text(channel, nested_media(950), "my router is down")

    # However much stack the server leaves the webhook: a worker may have less.
    response = with_frames_left(
        WEBHOOK_FRAMES_LEFT, lambda: acknowledge_body(client, channel.key, channel, body)
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "JSON nested deeper than 64 levels"
    assert not InboundDelivery.objects.exists()
    assert texts() == []


def test_the_deepest_delivery_the_webhook_takes_is_recorded_by_a_worker_with_little_stack(
    client, channel
):
    deepest = 64 - 8
    body = image_beside_a_text(channel, nested_media(deepest), "my router is down")
    too_deep = image_beside_a_text(channel, nested_media(deepest + 1), "my router is down")

    assert acknowledge_body(client, channel.key, channel, too_deep).status_code == 400
    assert acknowledge_body(client, channel.key, channel, body).status_code == 200
    assert record_as_a_worker(channel.pk) == 1

    assert not InboundDelivery.objects.exists()
    assert sorted(texts()) == ["", "my router is down"]


def test_a_bad_signature_keeps_nothing(client, channel):
    body = json.dumps(text_delivery(channel, "forged")).encode()
    response = client.post(
        f"/webhooks/whatsapp/{channel.key}/",
        data=body,
        content_type="application/json",
        headers={HEADER: sign(body, "not-the-app-secret")},
    )
    assert response.status_code == 401
    assert not InboundDelivery.objects.exists()


def test_a_channel_connected_after_its_key_was_tried_is_found_at_once(client, channel):
    key = "k" * 32
    assert acknowledge_to(client, key, channel, text_delivery(channel, "early")).status_code == 404
    channel.key = key
    channel.save()
    assert acknowledge_to(client, key, channel, text_delivery(channel, "now")).status_code == 200


def test_a_new_app_secret_is_used_once_the_channel_is_read_again(client, channel, monkeypatch):
    assert acknowledge(client, channel, text_delivery(channel, "before")).status_code == 200
    channel.app_secret = "rotated-secret"
    channel.save()
    later = time.monotonic() + selectors.CHANNEL_CACHE_SECONDS + 1
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)

    assert acknowledge(client, channel, text_delivery(channel, "after")).status_code == 200
    assert InboundDelivery.objects.count() == 2


def test_an_admin_records_again_a_delivery_that_failed_too_often(
    client, channel, django_capture_on_commit_callbacks
):
    acknowledge(client, channel, text_delivery(channel, "stuck for a while"))
    InboundDelivery.objects.update(attempts=inbox.MAX_ATTEMPTS, last_error="KeyError: 'x'")
    admin = MembershipFactory(role=Role.ADMIN, organization=channel.organization)
    client.login(username=admin.user.email, password=PASSWORD)

    page = client.get("/admin/channels_whatsapp/inbounddelivery/").content.decode()
    assert "KeyError" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/channels_whatsapp/inbounddelivery/",
            {
                "action": "record_again",
                "_selected_action": list(InboundDelivery.objects.values_list("pk", flat=True)),
            },
        )

    assert texts() == ["stuck for a while"]
    assert not InboundDelivery.objects.exists()


def test_another_organizations_kept_deliveries_are_not_shown(client, channel):
    acknowledge(client, channel, text_delivery(channel, "theirs"))
    InboundDelivery.objects.update(last_error="ValueError: their secret")
    admin = MembershipFactory(role=Role.ADMIN)
    client.login(username=admin.user.email, password=PASSWORD)

    page = client.get("/admin/channels_whatsapp/inbounddelivery/").content.decode()

    assert "their secret" not in page
