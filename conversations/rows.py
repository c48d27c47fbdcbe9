"""Statements written once per process, and model instances from their rows.

On the hottest path of recording a delivery, building and compiling a queryset, or the
INSERT of a ``save``, every call cost more CPU than the statement itself. There the SQL is written once from the models' own fields; each row read becomes
model instances the way Django's compiler makes them (``from_db``, after each column's
converters), and each value written is prepared the way ``save`` prepares it
(``get_db_prep_save``). No model signals are sent: the models written here have no
receivers."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg.types.json import Json, Jsonb

Converter = Callable[[Any, Any, Any], Any]


def database() -> BaseDatabaseWrapper:
    """This thread's connection itself, not ``django.db.connection``: that proxy looks the
    connection up again on every attribute, and preparing a value reads several. Where
    values are prepared or rows read by the hundred, those lookups held a tenth of a
    recording pass's time in a profile."""
    return connections[DEFAULT_DB_ALIAS]


def field_of(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """``model``'s concrete field named ``name`` (or by its attname)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} has no column"
    return field


def column_of(field: models.Field[Any, Any]) -> str:
    """A concrete field's column, quoted for this database."""
    return connection.ops.quote_name(cast(str, field.column))


def table_of(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


class ModelColumns:
    """One model's columns in such a SELECT, under ``alias``, from position ``start`` of
    a row: ``columns`` to write into the SELECT, ``column[attname]`` to name one in a
    condition, ``end`` where the next model's columns begin."""

    def __init__(self, model: type[models.Model], alias: str, start: int = 0) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in fields]
        self.start, self.end = start, start + len(fields)
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self.columns = [f"{alias}.{column_of(field)}" for field in fields]
        self.column = dict(zip(self.attnames, self.columns, strict=True))
        # As Django's compiler reads a column: the backend's converters, then the field's.
        self.converters: list[tuple[int, Any, list[Converter]]] = []
        for index, field in enumerate(fields):
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                self.converters.append((index, col, found))

    def instance(self, row: tuple[Any, ...]) -> Any:
        """The model instance in ``row``; None where an outer join found no row."""
        values = list(row[self.start : self.end])
        if values[self.pk_index] is None:
            return None
        if self.converters:
            db = database()
            for index, col, converters in self.converters:
                for convert in converters:
                    values[index] = convert(values[index], col, db)
        return self.model.from_db(DEFAULT_DB_ALIAS, self.attnames, values)


def lock_clause(alias: str, *, no_key: bool = False, skip_locked: bool = False) -> str:
    """The row lock ``select_for_update(of=(alias,), no_key=..., skip_locked=...)`` writes."""
    clause = f" FOR {'NO KEY UPDATE' if no_key else 'UPDATE'} OF {alias}"
    return clause + " SKIP LOCKED" if skip_locked else clause


class ConversationColumns:
    """A conversation (alias ``cv``) with its contact (``ct``) and project (``pj``), which
    every event about it shows: their columns and the FROM clause joining them, for a
    SELECT whose further columns start at ``end``, and the conversation read from a row
    with both in its caches."""

    def __init__(self) -> None:
        from conversations.models import Contact, Conversation, Project

        quote = connection.ops.quote_name
        self.conversation = ModelColumns(Conversation, "cv")
        self.contact = ModelColumns(Contact, "ct", self.conversation.end)
        self.project = ModelColumns(Project, "pj", self.contact.end)
        self.end = self.project.end
        self.columns = [*self.conversation.columns, *self.contact.columns, *self.project.columns]
        cv, ct, pj = self.conversation.column, self.contact.column, self.project.column
        self.from_clause = (
            f"{quote(Conversation._meta.db_table)} cv"
            f" JOIN {quote(Contact._meta.db_table)} ct ON {ct['id']} = {cv['contact_id']}"
            f" JOIN {quote(Project._meta.db_table)} pj ON {pj['id']} = {cv['project_id']}"
        )

    def instance(self, row: tuple[Any, ...]) -> Any:
        conversation = self.conversation.instance(row)
        conversation.contact = self.contact.instance(row)
        conversation.project = self.project.instance(row)
        return conversation


Statement = tuple[str, list[Any]]


@cache
def insert_columns(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns an INSERT writes: every concrete field but the key the database makes."""
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


def insert_values(instance: models.Model, fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """The values of ``fields`` of ``instance``, a new row, as ``save`` prepares them for
    its INSERT (``pre_save``, then ``get_db_prep_save``)."""
    db = database()
    return [field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields]


def _json_value(value: Any) -> str:
    """A prepared value that JSON has no type for, as text its column's type reads: a
    JSON field's value as its own ``dumps`` writes it, a time in ISO 8601. The models
    written this way hold no other kind."""
    if isinstance(value, Json | Jsonb):
        return str((value.dumps or json.dumps)(value.obj))
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"no JSON form for a {type(value).__name__} in a row to insert")


@cache
def _json_rows_statement(model: type[models.Model]) -> str:
    """``model``'s INSERT of the rows of one JSON array, each row an array of its values
    in the order of ``insert_columns``, read back into each column's type."""
    fields = insert_columns(model)
    columns = ", ".join(column_of(f) for f in fields)
    values = ", ".join(f"(row_ ->> {n})::{f.db_type(connection)}" for n, f in enumerate(fields))
    return (
        f"INSERT INTO {table_of(model)} ({columns})"
        f" SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS rows_ (row_)"
    )


def insert_many_statements(
    instances: Sequence[models.Model], *, suffix: str = ""
) -> list[Statement]:
    """The INSERTs of new rows of one model (keys made by the database), each statement
    followed by ``suffix`` (``ON CONFLICT``, ``RETURNING``), with their parameters.

    One statement whatever the number of rows: the rows travel as one JSON array, one
    parameter that ``json.dumps`` writes at C speed. Its text never changes, so psycopg
    converts it once and PostgreSQL keeps its plan. A VALUES list has a parameter per
    value, and past 50 of them psycopg converts the whole text again on every call; an
    array per column (``unnest``) had psycopg write every value of every array in Python,
    12 ms for two hundred messages."""
    if not instances:
        return []
    model = type(instances[0])
    fields = insert_columns(model)
    values = [insert_values(instance, fields) for instance in instances]
    rows = json.dumps(values, default=_json_value, ensure_ascii=False)
    return [(_json_rows_statement(model) + suffix, [rows])]


def insert_many(instances: Sequence[models.Model]) -> None:
    """Insert new rows of one model in as few statements as the database allows. Their
    keys are not read back: the callers never use them."""
    with connection.cursor() as cursor:
        for sql, params in insert_many_statements(instances):
            cursor.execute(sql, params)
