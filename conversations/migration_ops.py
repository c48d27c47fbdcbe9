"""Schema operations that the apps' migrations share."""

from __future__ import annotations

from django.db import migrations
from django.db.models import ForeignKey


def drop_foreign_key_index(
    *, model_name: str, name: str, field: ForeignKey, table: str, index: str
) -> migrations.SeparateDatabaseAndState:
    """A foreign key's own index dropped (``db_index=False``), when another index leads
    with its column and serves its lookups and cascades. Django's ``AlterField`` would also
    drop the foreign key constraint and add it back, which checks every row of the table
    again under a lock that holds up its writes; the constraint needs no change, so the
    database is only told to drop the index."""
    column = field.db_column or f"{name}_id"
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                sql=f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            )
        ],
    )
