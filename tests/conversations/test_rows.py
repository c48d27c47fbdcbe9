"""Many new rows in one statement: on PostgreSQL its text is the same whatever their
number, so psycopg converts it once and PostgreSQL plans it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conversations.models import Contact, Direction, Message, MessageStatus
from conversations.rows import insert_many, insert_many_statements
from tests.factories import ConversationFactory, OrganizationFactory


def contacts(organization, count: int, start: int = 0) -> list[Contact]:
    return [
        Contact(organization=organization, wa_id=f"4479{n:07d}", name=f"Customer {n}")
        for n in range(start, start + count)
    ]


@pytest.mark.django_db
def test_inserting_many_rows_is_one_statement_whose_text_does_not_grow_with_them():
    organization = OrganizationFactory()
    [(one, one_params)] = insert_many_statements(contacts(organization, 1))
    [(many, many_params)] = insert_many_statements(contacts(organization, 300))

    assert one == many
    assert len(one_params) == len(many_params) < 50  # psycopg caches up to 50 parameters


@pytest.mark.django_db
def test_rows_inserted_together_keep_every_value():
    organization = OrganizationFactory()
    insert_many(contacts(organization, 250))

    stored = list(Contact.objects.filter(organization=organization).order_by("wa_id"))
    assert [(c.wa_id, c.name, c.user_id) for c in stored] == [
        (f"4479{n:07d}", f"Customer {n}", None) for n in range(250)
    ]
    assert all(c.created_at is not None for c in stored)


@pytest.mark.django_db
def test_every_kind_of_value_comes_back_as_it_was_written():
    conversation = ConversationFactory()
    sent_at = datetime(2026, 12, 6, 21, 30, 15, 123456, tzinfo=UTC)
    texts = ['a "quoted" {braced} back\\slash, comma', "NULL", "", "line\nbreak \u00e9 \U0001f600"]
    media = {"id": "m1", "caption": 'say "hi" {x}', "sizes": [1, 2.5, None, True]}
    insert_many(
        [
            Message(
                conversation=conversation,
                channel=conversation.channel,
                direction=Direction.IN,
                type="text",
                text=text,
                media=media if n == 0 else {},
                status=MessageStatus.RECEIVED,
                wamid=f"wamid.kinds.{n}",
                context_wamid="" if n else "wamid.earlier",
                sent_at=sent_at + timedelta(seconds=n),
            )
            for n, text in enumerate(texts)
        ]
    )

    stored = list(Message.objects.filter(conversation=conversation).order_by("wamid"))
    assert [m.text for m in stored] == texts
    assert [m.media for m in stored] == [media, {}, {}, {}]
    assert [m.context_wamid for m in stored] == ["wamid.earlier", "", "", ""]
    assert [m.sent_at for m in stored] == [sent_at + timedelta(seconds=n) for n in range(4)]
    assert {m.direction for m in stored} == {Direction.IN}
    assert {(m.sender_id, m.status_changed_at) for m in stored} == {(None, None)}
