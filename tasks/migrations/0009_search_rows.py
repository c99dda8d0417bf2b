"""A narrow search row per task: ``task_search_row`` (issue 10).

A search whose numeric ranges are all large and whose other clauses select most of the
environment (``param.lr:>:0.01,param.epochs:>=:20,status:completed``: ranges of 33,000 and
60,000 side rows, 75,000 completed tasks out of 100,000) reads every one of those index
entries plus every candidate task's heap row. Until the first VACUUM nothing is marked
all-visible, so each index entry costs a heap visit; the tasks' heap (~0.9 KB a row, the
``task_data`` kept inline) and the side table do not fit the buffer cache together, and the
search took 130-180 ms of database time at 100,000 tasks.

``task_search_row`` holds, per task, only what such a search reads: the columns a search
filters or sorts on that are cheap to copy (``environment_id``, ``task_namespace``,
``task_name``, ``created_at``, ``status``; under the task's own column names, so a search's
SQL runs on it unchanged) and ``param_numbers``, the task's numeric ``task_data`` leaves as one
flat JSON object ``{path: number}``, paths written as ``task_search_number`` writes them
(the same walk, ``task_search_numbers``). About 300 bytes a row: the environment's rows are
read in one pass that stays in the buffer cache (``tasks.search.results._matched_page``).

Triggers keep it equal to ``tasks_task`` in the same transaction: rows are inserted with their
tasks (statement-level, one pass over the new rows), follow every change of a copied column
(row-level, only when one changed: a status change rewrites one ~300-byte row and leaves
``param_numbers`` as it is unless ``task_data`` changed) and go with their tasks.

PostgreSQL only, hand-written like ``0003_search_indexes``; SQLite is untouched and no model
state changes.
"""

from django.db import migrations


# ``param_numbers`` of a ``task_data`` document: its numeric leaves as one flat object, by the
# same walk as ``task_search_number`` (``task_search_numbers``). Written out in each statement
# rather than wrapped in a SQL function: PostgreSQL inlines ``task_search_numbers`` in a FROM
# clause and plans it once with the trigger's statement, while a scalar SQL function around
# the aggregate is planned again on every call (~0.25 ms of database CPU per registered task).
def param_numbers(doc: str) -> str:
    """SQL for the ``param_numbers`` object of the ``task_data`` expression ``doc``."""
    return (f"COALESCE((SELECT jsonb_object_agg(n.path, n.value) "
            f"FROM task_search_numbers({doc}) n), '{{}}'::jsonb)")


SEARCH_ROW_SQL = rf"""
CREATE TABLE IF NOT EXISTS task_search_row (
    id uuid PRIMARY KEY,
    environment_id uuid NOT NULL,
    task_namespace varchar(255) NOT NULL,
    task_name varchar(255) NOT NULL,
    created_at timestamptz NOT NULL,
    status varchar(16) NOT NULL,
    param_numbers jsonb NOT NULL
) WITH (fillfactor = 90);
CREATE INDEX IF NOT EXISTS task_search_row_environment ON task_search_row (environment_id);

CREATE OR REPLACE FUNCTION task_search_row_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO task_search_row (id, environment_id, task_namespace, task_name, created_at,
                                 status, param_numbers)
    SELECT t.id, t.environment_id, t.task_namespace, t.task_name, t.created_at, t.status,
           {param_numbers('t.task_data')}
    FROM new_rows t;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_row_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE task_search_row SET
        id = NEW.id, environment_id = NEW.environment_id,
        task_namespace = NEW.task_namespace, task_name = NEW.task_name,
        created_at = NEW.created_at, status = NEW.status,
        param_numbers = CASE WHEN OLD.task_data IS DISTINCT FROM NEW.task_data
                             THEN {param_numbers('NEW.task_data')}
                             ELSE param_numbers END
    WHERE id = OLD.id;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_row_delete() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM task_search_row r USING old_rows o WHERE r.id = o.id;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_row_truncate() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    TRUNCATE task_search_row;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS task_search_row_insert ON tasks_task;
CREATE TRIGGER task_search_row_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_row_insert();
DROP TRIGGER IF EXISTS task_search_row_update ON tasks_task;
CREATE TRIGGER task_search_row_update
    AFTER UPDATE OF id, environment_id, task_namespace, task_name, created_at, status,
                    task_data ON tasks_task
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id
                       OR OLD.environment_id IS DISTINCT FROM NEW.environment_id
                       OR OLD.task_namespace IS DISTINCT FROM NEW.task_namespace
                       OR OLD.task_name IS DISTINCT FROM NEW.task_name
                       OR OLD.created_at IS DISTINCT FROM NEW.created_at
                       OR OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.task_data IS DISTINCT FROM NEW.task_data)
    EXECUTE FUNCTION task_search_row_update();
DROP TRIGGER IF EXISTS task_search_row_delete ON tasks_task;
CREATE TRIGGER task_search_row_delete AFTER DELETE ON tasks_task
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_row_delete();
DROP TRIGGER IF EXISTS task_search_row_truncate ON tasks_task;
CREATE TRIGGER task_search_row_truncate AFTER TRUNCATE ON tasks_task
    FOR EACH STATEMENT EXECUTE FUNCTION task_search_row_truncate();
"""
SEARCH_ROW_BACKFILL = (
    "INSERT INTO task_search_row (id, environment_id, task_namespace, task_name, created_at, "
    "status, param_numbers) "
    "SELECT t.id, t.environment_id, t.task_namespace, t.task_name, t.created_at, t.status, "
    f"{param_numbers('t.task_data')} FROM tasks_task t"
)
SEARCH_ROW_DROP = [
    "DROP TRIGGER IF EXISTS task_search_row_insert ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_row_update ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_row_delete ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_row_truncate ON tasks_task",
    "DROP FUNCTION IF EXISTS task_search_row_insert()",
    "DROP FUNCTION IF EXISTS task_search_row_update()",
    "DROP FUNCTION IF EXISTS task_search_row_delete()",
    "DROP FUNCTION IF EXISTS task_search_row_truncate()",
    "DROP TABLE IF EXISTS task_search_row",
]


def install_search_rows(schema_editor, *, backfill: bool = True) -> None:
    """Create (or replace) ``task_search_row`` and its triggers, and fill it from the tasks.

    Idempotent. Needs ``task_search_numbers`` (``0003_search_indexes``). Also called by the
    test-suite, whose database is built without migrations.
    """
    schema_editor.execute(SEARCH_ROW_SQL)
    if backfill:
        schema_editor.execute("TRUNCATE task_search_row")
        schema_editor.execute(SEARCH_ROW_BACKFILL)


def drop_search_rows(schema_editor) -> None:
    for sql in SEARCH_ROW_DROP:
        schema_editor.execute(sql)


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    install_search_rows(schema_editor)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    drop_search_rows(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0008_search_namespace_covering_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
