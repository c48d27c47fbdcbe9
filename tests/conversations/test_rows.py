"""Many new rows in one statement: on PostgreSQL its text is the same whatever their
number, so psycopg converts it once and PostgreSQL plans it once."""

from __future__ import annotations

import pytest

from conversations.models import Contact
from conversations.rows import insert_many, insert_many_statements
from tests.factories import OrganizationFactory


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
    assert all(len(column) == 300 for column in many_params)


@pytest.mark.django_db
def test_rows_inserted_together_keep_every_value():
    organization = OrganizationFactory()
    insert_many(contacts(organization, 250))

    stored = list(Contact.objects.filter(organization=organization).order_by("wa_id"))
    assert [(c.wa_id, c.name, c.user_id) for c in stored] == [
        (f"4479{n:07d}", f"Customer {n}", None) for n in range(250)
    ]
    assert all(c.created_at is not None for c in stored)
