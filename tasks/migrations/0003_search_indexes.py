"""PostgreSQL-only indexes for task search (contract §7; issue 5).

Hand-written: these are expression / GIN / trigram indexes that Django's model ``Meta`` cannot
describe portably, so they live here as SQL with fixed text, applied only when the database is
PostgreSQL (SQLite is untouched and ``makemigrations --check`` stays clean because no model
state changes).

* ``task_data`` / asset ``body``: GIN ``jsonb_path_ops``. Equality clauses on ``param.*`` and
  ``asset.*`` are first narrowed by ``@>`` containment, which these answer.
* ``upper(task_name)`` / ``upper(task_namespace)``: trigram GIN for ``q`` and ``~`` (Django's
  ``icontains`` compiles to ``UPPER(col::text) LIKE UPPER(%s)``). Needs ``pg_trgm``; when the
  extension cannot be created (no privilege) these two are skipped and search still works.
* ``(environment_id, task_name, id)`` and ``(environment_id, task_namespace, id)``: the
  ``sort=task_name|task_namespace`` orders, ties broken by id (§7.3), straight from an index.
* ``(environment_id, status, created_at, id)``: status filters with the default order and any
  page depth as an index-only scan.
"""

from django.db import migrations, transaction

INDEXES = [
    ("task_search_data_gin",
     "CREATE INDEX IF NOT EXISTS task_search_data_gin ON tasks_task "
     "USING gin (task_data jsonb_path_ops)"),
    ("asset_search_body_gin",
     "CREATE INDEX IF NOT EXISTS asset_search_body_gin ON tasks_taskasset "
     "USING gin (body jsonb_path_ops)"),
    ("task_search_name_sort",
     "CREATE INDEX IF NOT EXISTS task_search_name_sort ON tasks_task "
     "(environment_id, task_name, id)"),
    ("task_search_ns_sort",
     "CREATE INDEX IF NOT EXISTS task_search_ns_sort ON tasks_task "
     "(environment_id, task_namespace, id)"),
    ("task_search_status_page",
     "CREATE INDEX IF NOT EXISTS task_search_status_page ON tasks_task "
     "(environment_id, status, created_at, id)"),
]
TRIGRAM_INDEXES = [
    ("task_search_name_trgm",
     "CREATE INDEX IF NOT EXISTS task_search_name_trgm ON tasks_task "
     "USING gin (upper(task_name::text) gin_trgm_ops)"),
    ("task_search_ns_trgm",
     "CREATE INDEX IF NOT EXISTS task_search_ns_trgm ON tasks_task "
     "USING gin (upper(task_namespace::text) gin_trgm_ops)"),
]


def _has_trigram(schema_editor) -> bool:
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # no privilege to create it: run without the trigram indexes
        return False
    return True


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    statements = list(INDEXES)
    if _has_trigram(schema_editor):
        statements += TRIGRAM_INDEXES
    for _, sql in statements:
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES + TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0002_task_last_event_at"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
