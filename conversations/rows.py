"""Model instances from a SELECT written once per process.

On the hottest paths (recording a delivery, a routing decision) building and compiling a
queryset every call cost more CPU than the statement itself. There the SQL is written
once from the models' own fields, and each row becomes model instances the way Django's
compiler makes them: ``from_db``, after each column's converters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, models

Converter = Callable[[Any, Any, Any], Any]


class ModelColumns:
    """One model's columns in such a SELECT, under ``alias``, from position ``start`` of
    a row: ``columns`` to write into the SELECT, ``column[attname]`` to name one in a
    condition, ``end`` where the next model's columns begin."""

    def __init__(self, model: type[models.Model], alias: str, start: int = 0) -> None:
        self.model = model
        fields = model._meta.concrete_fields
        self.attnames = [field.attname for field in fields]
        self.start, self.end = start, start + len(fields)
        quote = connection.ops.quote_name
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self.columns = [f"{alias}.{quote(field.column)}" for field in fields]
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
        for index, col, converters in self.converters:
            for convert in converters:
                values[index] = convert(values[index], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)
