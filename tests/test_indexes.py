"""Every index of ours earns its writes: none repeats what another index serves."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

OUR_APPS = ("accounts", "conversations", "channels_whatsapp", "presence", "routing")

# Index A is redundant beside index B of the same table when A enforces nothing (not
# unique), both index plain columns, B's first columns are A's with the same operator
# classes and collations, and B holds the same rows (the same condition, or neither has
# one). Every lookup and cascade A serves, B serves, and each write pays for both.
REDUNDANT = """
SELECT a.indexrelid::regclass::text, b.indexrelid::regclass::text
FROM pg_index a
JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
WHERE a.indrelid::regclass::text = ANY(%s)
  AND NOT a.indisunique
  AND a.indexprs IS NULL AND b.indexprs IS NULL
  AND a.indnkeyatts <= b.indnkeyatts
  AND (a.indkey::int2[])[0:a.indnkeyatts - 1] = (b.indkey::int2[])[0:a.indnkeyatts - 1]
  AND (a.indclass::oid[])[0:a.indnkeyatts - 1] = (b.indclass::oid[])[0:a.indnkeyatts - 1]
  AND (a.indcollation::oid[])[0:a.indnkeyatts - 1]
      = (b.indcollation::oid[])[0:a.indnkeyatts - 1]
  AND pg_get_expr(a.indpred, a.indrelid) IS NOT DISTINCT FROM pg_get_expr(b.indpred, b.indrelid)
ORDER BY 1, 2
"""


@pytest.mark.django_db
def test_no_index_repeats_the_leading_columns_of_another():
    tables = [
        model._meta.db_table
        for label in OUR_APPS
        for model in apps.get_app_config(label).get_models()
    ]
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT, [tables])
        assert cursor.fetchall() == []
