"""ORM querysets compiled once, run many times: for the few queries every request makes.

Building and compiling a queryset costs more CPU than PostgreSQL spends answering it: a
``select_related`` lookup by a unique key is ~0.3-0.5 ms of Python in Django's compiler, and the
credential lookup, the build lookup and the task lock of a lifecycle call are made by almost
every SDK request (issue 10 profile: ORM query compilation ~18 % of a worker's time).
``PreparedQuery`` keeps the ORM as the single description of such a query and compiles it once
per thread and database, with sentinel values in place of the parameters; each call then binds
the real values (prepared by the same model fields the ORM would use) into the compiled SQL and
turns the rows into model instances as Django's ``ModelIterable`` does (``select_related``
objects and annotations included, the backend's converters applied).

Only plain equality parameters may be named (``field=value``; constants such as ``is_active=True``
or ``event_type__in=[...]`` stay compiled in). A parameter that cannot be found in the compiled
parameters raises at the first call, so a query that would bind wrongly can never run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import get_related_populators


@dataclass
class _Compiled:
    sql: str
    slots: list[str | None]  # per SQL parameter: the name bound there, or None (a constant)
    constants: list[Any]
    compiler: Any
    converters: dict[int, Any]
    init_list: list[str]
    model_slice: tuple[int, int]
    annotation_col_map: dict[str, int]
    klass_info: dict[str, Any]
    populators: list[Any]


def prepared_cursor(connection: Any) -> Any:
    """A cursor whose repeated statements PostgreSQL prepares (see
    ``stardag_site.db.postgresql``); the ordinary cursor elsewhere."""
    factory = getattr(connection, "prepared_cursor", None)
    return factory() if factory is not None else connection.cursor()


def _sentinel(field: Field) -> Any:
    if field.get_internal_type() in ("UUIDField", "ForeignKey", "OneToOneField"):
        return uuid.uuid4()
    return f"\x01prepared-{uuid.uuid4().hex}"


class PreparedQuery:
    """``build(**values)`` returns the queryset; ``params`` names the model field that prepares
    each value. ``first(**values)`` returns the first model instance or None."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **params: Field) -> None:
        self._build = build
        self._fields = params
        self._local = threading.local()

    def _compiled(self, using: str) -> _Compiled:
        cache = self._local.__dict__.setdefault("compiled", {})
        if using in cache:
            return cache[using]
        connection = connections[using]
        sentinels = {name: _sentinel(field) for name, field in self._fields.items()}
        queryset = self._build(**sentinels)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        by_value = {}
        for name, field in self._fields.items():
            by_value[self._key(field.get_db_prep_value(sentinels[name], connection))] = name
        slots = [by_value.get(self._key(param)) for param in params]
        missing = set(self._fields) - set(filter(None, slots))
        if missing:
            raise ValueError(f"parameters {sorted(missing)} are not plain values of the query")
        klass_info = compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        compiled = _Compiled(
            sql=sql, slots=slots, constants=list(params), compiler=compiler,
            converters=compiler.get_converters([column[0] for column in compiler.select]),
            init_list=[column[0].target.attname for column in compiler.select[start:end]],
            model_slice=(start, end), annotation_col_map=compiler.annotation_col_map or {},
            klass_info=klass_info,
            # django-stubs 6.x describe Django 6.0's signature (a fourth ``fetch_mode``);
            # Django 5.2 takes three arguments.
            populators=get_related_populators(  # type: ignore[call-arg]
                klass_info, compiler.select, using),
        )
        cache[using] = compiled
        return compiled

    @staticmethod
    def _key(value: Any) -> Any:
        return (type(value).__name__, str(value))

    def _fetchone(self, using: str, values: dict[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._compiled(using)
        connection = connections[using]
        params = [
            compiled.constants[index] if name is None
            else self._fields[name].get_db_prep_value(values[name], connection)
            for index, name in enumerate(compiled.slots)
        ]
        with prepared_cursor(connection) as cursor:
            cursor.execute(compiled.sql, params)
            return compiled, cursor.fetchone()

    def exists(self, using: str = "default", **values: Any) -> bool:
        """Whether the query returns a row."""
        return self._fetchone(using, values)[1] is not None

    def first(self, using: str = "default", **values: Any) -> Model | None:
        compiled, row = self._fetchone(using, values)
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        start, end = compiled.model_slice
        instance = compiled.klass_info["model"].from_db(using, compiled.init_list, row[start:end])
        for populator in compiled.populators:
            populator.populate(row, instance)
        for name, position in compiled.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance


_STATEMENTS: dict[tuple[Any, ...], str] = {}


def column_field(model: type[Model], name: str) -> Field:
    """``model``'s field ``name`` (a field name or attname), not a reverse relation."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is a reverse relation, not a field")
    return field


def _column(field: Field) -> str:
    """The field's column name (``None`` in the stubs for fields without one, e.g. M2M)."""
    column = field.column
    if column is None:
        raise TypeError(f"{field} has no column")
    return column


def _statement(key: tuple[Any, ...], build: Callable[[], str]) -> str:
    sql = _STATEMENTS.get(key)
    if sql is None:
        sql = _STATEMENTS[key] = build()
    return sql


def _insert_statement(connection: Any, model: type[Model], names: tuple[str, ...],
                      ignore_conflicts: bool) -> tuple[str, list[Field]]:
    fields = [column_field(model, name) for name in names]

    def build() -> str:
        q = connection.ops.quote_name
        return (f"INSERT INTO {q(model._meta.db_table)} "
                f"({', '.join(q(_column(field)) for field in fields)}) "
                f"VALUES ({', '.join(['%s'] * len(fields))})"
                + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""))

    return _statement(("insert", model, names, ignore_conflicts, connection.vendor), build), fields


def _update_statement(connection: Any, model: type[Model],
                      names: tuple[str, ...]) -> tuple[str, list[Field]]:
    fields = [column_field(model, name) for name in names]

    def build() -> str:
        q = connection.ops.quote_name
        assignments = ", ".join(f"{q(_column(field))} = %s" for field in fields)
        return (f"UPDATE {q(model._meta.db_table)} SET {assignments} "
                f"WHERE {q(_column(model._meta.pk))} = %s")

    return _statement(("update", model, names, connection.vendor), build), fields


def _save_params(connection: Any, fields: list[Field], names: tuple[str, ...],
                 values: dict[str, Any]) -> list[Any]:
    return [field.get_db_prep_save(values[name], connection)
            for name, field in zip(names, fields, strict=True)]


def insert_row(model: type[Model], values: dict[str, Any], using: str = "default", *,
               ignore_conflicts: bool = False) -> int:
    """``INSERT`` one row with exactly these column values (by field name or attname); the
    number of rows inserted (0 when ``ignore_conflicts`` skipped a conflicting row).

    For the append-only rows of the hot paths (task events): what ``Model.objects.create``
    sends, without building a model instance, running ``save()`` and compiling the statement on
    every call. No ``pre_save``/``post_save`` signals are sent (nothing in the project listens to
    them for these models), field defaults are not applied: pass every value.
    ``ignore_conflicts`` appends ``ON CONFLICT DO NOTHING`` (as ``bulk_create`` does).
    """
    connection = connections[using]
    names = tuple(values)
    sql, fields = _insert_statement(connection, model, names, ignore_conflicts)
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, _save_params(connection, fields, names, values))
        return cursor.rowcount


def update_row(model: type[Model], pk: Any, values: dict[str, Any],
               using: str = "default") -> int:
    """``UPDATE ... SET <values> WHERE pk = <pk>``; the number of rows changed. What
    ``Model.objects.filter(pk=pk).update(**values)`` sends, compiled once."""
    connection = connections[using]
    names = tuple(values)
    sql, fields = _update_statement(connection, model, names)
    params = _save_params(connection, fields, names, values)
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_row_and_update_row(insert_model: type[Model], insert_values: dict[str, Any],
                              update_model: type[Model], pk: Any,
                              update_values: dict[str, Any], using: str = "default") -> None:
    """``insert_row(insert_model, insert_values)`` then ``update_row(update_model, pk,
    update_values)``, in ONE statement on PostgreSQL: the INSERT runs as a data-modifying
    ``WITH`` clause of the UPDATE (PostgreSQL always runs such a clause, exactly once). A task
    event and the fold of it into the task row are written together on every lifecycle call;
    one round trip instead of two saves ~0.1 ms of server and database CPU per call. The two
    rows must be independent (different tables, no row read by the other). Other databases get
    the two statements.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        insert_row(insert_model, insert_values, using)
        update_row(update_model, pk, update_values, using)
        return
    insert_names, update_names = tuple(insert_values), tuple(update_values)
    insert_sql, insert_fields = _insert_statement(connection, insert_model, insert_names, False)
    update_sql, update_fields = _update_statement(connection, update_model, update_names)
    sql = _statement(("insert+update", insert_sql, update_sql),
                     lambda: f"WITH {connection.ops.quote_name('inserted')} AS ({insert_sql}) "
                             f"{update_sql}")
    params = [*_save_params(connection, insert_fields, insert_names, insert_values),
              *_save_params(connection, update_fields, update_names, update_values),
              update_model._meta.pk.get_db_prep_value(pk, connection)]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
