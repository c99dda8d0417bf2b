"""Covering indexes for a namespace filter with the created_at or task_name sort (issue 10).

A search with numeric clauses materialises the ids and the sort key of every matching task
(``tasks.search.results._matched_page``). With a ``task_namespace`` clause those come from
``(environment_id, task_namespace, created_at, id)`` or ``(environment_id, task_namespace,
task_name, id)`` as an index-only scan (the ``q`` substring test on the name and namespace is
checked on the index entries too), instead of a heap visit per task of the namespace: at
100,000 tasks the combined namespace + numeric-range searches go from ~80 to ~40 ms of
database time once the table has been vacuumed. The model's ``task_env_ns_idx`` lacks the id,
``task_search_ns_sort`` (``0003_search_indexes``) the sort keys.

PostgreSQL only, hand-written like ``0003_search_indexes``; SQLite is untouched and no model
state changes.
"""

from django.db import migrations

INDEXES = [
    ("task_search_ns_created",
     "CREATE INDEX IF NOT EXISTS task_search_ns_created ON tasks_task "
     "(environment_id, task_namespace, created_at, id)"),
    ("task_search_ns_name",
     "CREATE INDEX IF NOT EXISTS task_search_ns_name ON tasks_task "
     "(environment_id, task_namespace, task_name, id)"),
]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for _, sql in INDEXES:
        schema_editor.execute(sql)


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")  # fixed names above


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0007_search_number_per_task_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
