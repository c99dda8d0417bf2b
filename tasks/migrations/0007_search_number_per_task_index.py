"""The numeric side table gets an index leading with the task (issue 10).

Numeric search clauses probe ``task_search_number`` per candidate task
(``tasks.search.numbers.NumberIndexMatch``): ``(task_id, scope, path, value)`` answers each probe
with one bounded index descent, so a search combining a numeric range with other clauses stays
linear in the candidate tasks whatever the planner's statistics say. It replaces the plain
``(task_id)`` index, which the triggers' per-task deletes now use through its first column.
PostgreSQL only, like ``0003_search_indexes`` (which creates the same index on new databases).
"""

from django.db import migrations


def create_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DO $$ BEGIN IF to_regclass('task_search_number') IS NOT NULL THEN "
        "CREATE INDEX IF NOT EXISTS task_search_number_per_task "
        "ON task_search_number (task_id, scope, path, value); "
        "DROP INDEX IF EXISTS task_search_number_task; END IF; END $$"
    )


def drop_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DO $$ BEGIN IF to_regclass('task_search_number') IS NOT NULL THEN "
        "CREATE INDEX IF NOT EXISTS task_search_number_task ON task_search_number (task_id); "
        "DROP INDEX IF EXISTS task_search_number_per_task; END IF; END $$"
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0006_v2_protocol"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
