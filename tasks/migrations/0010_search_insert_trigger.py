"""One insert trigger for both search tables of a new task (issue 10).

``0003_search_indexes`` fills ``task_search_number`` and ``0009_search_rows`` fills
``task_search_row`` from the same walk of ``task_data`` (``task_search_numbers``), each in a
statement-level trigger of its own: every registered task was walked twice, and each trigger
paid its own start-up. Measured on single-row inserts of SDK-shaped tasks, in PostgreSQL CPU per
insert: both triggers 0.42-0.45 ms, neither 0.18-0.21 ms, this one trigger 0.30-0.33 ms.

``task_search_task_insert`` walks the new rows once (a materialised CTE) and writes both
tables from it, in one statement: the numbers as ``task_search_number`` rows, and per task the
same numbers as ``task_search_row.param_numbers`` (``'{}'`` when it has none), exactly what the
two triggers wrote. The update, delete and truncate triggers, and the asset triggers, are
unchanged.

PostgreSQL only, hand-written like ``0003``/``0009``; ``install()`` is idempotent and is also
called by the test-suite (its database is built without migrations), after those two.
"""

from django.db import migrations

INSERT_TRIGGER_SQL = r"""
CREATE OR REPLACE FUNCTION task_search_task_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    WITH numbers AS MATERIALIZED (
        SELECT t.id, t.environment_id, n.path, n.value
        FROM new_rows t CROSS JOIN LATERAL task_search_numbers(t.task_data) n
    ), side_rows AS (
        INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value)
        SELECT id, environment_id, NULL, 'param', path, value FROM numbers
    )
    INSERT INTO task_search_row (id, environment_id, task_namespace, task_name, created_at,
                                 status, param_numbers)
    SELECT t.id, t.environment_id, t.task_namespace, t.task_name, t.created_at, t.status,
           COALESCE(a.param_numbers, '{}'::jsonb)
    FROM new_rows t
    LEFT JOIN (SELECT id, jsonb_object_agg(path, value) AS param_numbers
               FROM numbers GROUP BY id) a ON a.id = t.id;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS task_search_number_insert ON tasks_task;
DROP TRIGGER IF EXISTS task_search_row_insert ON tasks_task;
DROP TRIGGER IF EXISTS task_search_insert ON tasks_task;
CREATE TRIGGER task_search_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_task_insert();
"""

# Back to the two triggers of 0003 and 0009 (their functions are still there).
SEPARATE_TRIGGERS_SQL = r"""
DROP TRIGGER IF EXISTS task_search_insert ON tasks_task;
DROP FUNCTION IF EXISTS task_search_task_insert();
CREATE TRIGGER task_search_number_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_number_task_insert();
CREATE TRIGGER task_search_row_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_row_insert();
"""


def install(schema_editor) -> None:
    """Replace the two insert triggers of ``tasks_task`` by the combined one (idempotent)."""
    schema_editor.execute(INSERT_TRIGGER_SQL)


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        install(schema_editor)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEPARATE_TRIGGERS_SQL)


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0009_search_rows"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
