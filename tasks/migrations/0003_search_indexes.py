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

Numeric comparisons (``param.lr:>:0.01``, ``asset.metrics.accuracy:>=:0.9``) cannot use any of
those: every row's JSON would have to be read. ``task_search_number`` holds one row per numeric
leaf of every task's ``task_data`` (scope ``param``) and every asset body (scope
``asset.<name>``), with the path written exactly as the filter grammar writes it
(``model.layers``, ``splits[0].fraction``), kept current by triggers on ``tasks_task`` and
``tasks_taskasset`` (tasks are immutable; assets are upserted). A range is then an index range
scan. Only keys the grammar can express are recorded (``[A-Za-z0-9_]+``, one list index per
segment, indexes below 100, at most 12 steps); ``tasks.search`` uses the table only for paths
within those limits and falls back to reading the JSON otherwise, and on databases without the
table (tests run without migrations, SQLite).
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


NUMBER_INDEX_SQL = r"""
CREATE TABLE IF NOT EXISTS task_search_number (
    task_id uuid NOT NULL,
    environment_id uuid NOT NULL,
    asset_id uuid NULL,
    scope text NOT NULL,
    path text NOT NULL,
    value numeric NOT NULL
);
CREATE INDEX IF NOT EXISTS task_search_number_lookup
    ON task_search_number (environment_id, scope, path, value, task_id);
CREATE INDEX IF NOT EXISTS task_search_number_per_task
    ON task_search_number (task_id, scope, path, value);
CREATE INDEX IF NOT EXISTS task_search_number_asset ON task_search_number (asset_id)
    WHERE asset_id IS NOT NULL;

CREATE OR REPLACE FUNCTION task_search_numbers(doc jsonb)
RETURNS TABLE (path text, value numeric) LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
    WITH RECURSIVE walk (path, value, depth, indexed) AS (
        SELECT e.key, e.value, 1, false
        FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}'::jsonb END) e
        WHERE e.key ~ '^[A-Za-z0-9_]+$'
      UNION ALL
        SELECT w.path || c.suffix, c.value, w.depth + 1, c.indexed
        FROM walk w
        CROSS JOIN LATERAL (
            SELECT '.' || o.key AS suffix, o.value, false AS indexed
            FROM jsonb_each(CASE WHEN jsonb_typeof(w.value) = 'object' THEN w.value
                                 ELSE '{}'::jsonb END) o
            WHERE o.key ~ '^[A-Za-z0-9_]+$'
          UNION ALL
            SELECT '[' || (a.n - 1) || ']', a.value, true
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.value) = 'array' AND NOT w.indexed
                                           THEN w.value ELSE '[]'::jsonb END)
                 WITH ORDINALITY AS a (value, n)
            WHERE a.n <= 100
        ) c
        WHERE w.depth < 12 AND jsonb_typeof(w.value) IN ('object', 'array')
    )
    SELECT walk.path, walk.value::numeric FROM walk WHERE jsonb_typeof(walk.value) = 'number'
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_task_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value)
    SELECT t.id, t.environment_id, NULL, 'param', n.path, n.value
    FROM new_rows t CROSS JOIN LATERAL task_search_numbers(t.task_data) n;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_task_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM task_search_number WHERE task_id = OLD.id AND asset_id IS NULL;
    INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value)
    SELECT NEW.id, NEW.environment_id, NULL, 'param', n.path, n.value
    FROM task_search_numbers(NEW.task_data) n;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_task_delete() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM task_search_number n USING old_rows o WHERE n.task_id = o.id;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_asset_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value)
    SELECT a.task_id, a.environment_id, a.id, 'asset.' || a.name, n.path, n.value
    FROM new_rows a CROSS JOIN LATERAL task_search_numbers(a.body) n;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_asset_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM task_search_number WHERE asset_id = OLD.id;
    INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value)
    SELECT NEW.task_id, NEW.environment_id, NEW.id, 'asset.' || NEW.name, n.path, n.value
    FROM task_search_numbers(NEW.body) n;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_asset_delete() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM task_search_number n USING old_rows o WHERE n.asset_id = o.id;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION task_search_number_truncate() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_TABLE_NAME = 'tasks_task' THEN
        TRUNCATE task_search_number;
    ELSE
        DELETE FROM task_search_number WHERE asset_id IS NOT NULL;
    END IF;
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS task_search_number_insert ON tasks_task;
CREATE TRIGGER task_search_number_insert AFTER INSERT ON tasks_task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_number_task_insert();
DROP TRIGGER IF EXISTS task_search_number_update ON tasks_task;
CREATE TRIGGER task_search_number_update AFTER UPDATE OF task_data, environment_id ON tasks_task
    FOR EACH ROW WHEN (OLD.task_data IS DISTINCT FROM NEW.task_data
                       OR OLD.environment_id IS DISTINCT FROM NEW.environment_id)
    EXECUTE FUNCTION task_search_number_task_update();
DROP TRIGGER IF EXISTS task_search_number_delete ON tasks_task;
CREATE TRIGGER task_search_number_delete AFTER DELETE ON tasks_task
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_number_task_delete();
DROP TRIGGER IF EXISTS task_search_number_truncate ON tasks_task;
CREATE TRIGGER task_search_number_truncate AFTER TRUNCATE ON tasks_task
    FOR EACH STATEMENT EXECUTE FUNCTION task_search_number_truncate();

DROP TRIGGER IF EXISTS task_search_number_insert ON tasks_taskasset;
CREATE TRIGGER task_search_number_insert AFTER INSERT ON tasks_taskasset
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_number_asset_insert();
DROP TRIGGER IF EXISTS task_search_number_update ON tasks_taskasset;
CREATE TRIGGER task_search_number_update AFTER UPDATE OF body, name, task_id, environment_id
    ON tasks_taskasset FOR EACH ROW
    WHEN (OLD.body IS DISTINCT FROM NEW.body OR OLD.name IS DISTINCT FROM NEW.name
          OR OLD.task_id IS DISTINCT FROM NEW.task_id
          OR OLD.environment_id IS DISTINCT FROM NEW.environment_id)
    EXECUTE FUNCTION task_search_number_asset_update();
DROP TRIGGER IF EXISTS task_search_number_delete ON tasks_taskasset;
CREATE TRIGGER task_search_number_delete AFTER DELETE ON tasks_taskasset
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION task_search_number_asset_delete();
DROP TRIGGER IF EXISTS task_search_number_truncate ON tasks_taskasset;
CREATE TRIGGER task_search_number_truncate AFTER TRUNCATE ON tasks_taskasset
    FOR EACH STATEMENT EXECUTE FUNCTION task_search_number_truncate();
"""
NUMBER_INDEX_BACKFILL = [
    "INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value) "
    "SELECT t.id, t.environment_id, NULL, 'param', n.path, n.value "
    "FROM tasks_task t CROSS JOIN LATERAL task_search_numbers(t.task_data) n",
    "INSERT INTO task_search_number (task_id, environment_id, asset_id, scope, path, value) "
    "SELECT a.task_id, a.environment_id, a.id, 'asset.' || a.name, n.path, n.value "
    "FROM tasks_taskasset a CROSS JOIN LATERAL task_search_numbers(a.body) n",
]
NUMBER_INDEX_DROP = [
    "DROP TRIGGER IF EXISTS task_search_number_insert ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_number_update ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_number_delete ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_number_truncate ON tasks_task",
    "DROP TRIGGER IF EXISTS task_search_number_insert ON tasks_taskasset",
    "DROP TRIGGER IF EXISTS task_search_number_update ON tasks_taskasset",
    "DROP TRIGGER IF EXISTS task_search_number_delete ON tasks_taskasset",
    "DROP TRIGGER IF EXISTS task_search_number_truncate ON tasks_taskasset",
    "DROP FUNCTION IF EXISTS task_search_number_task_insert()",
    "DROP FUNCTION IF EXISTS task_search_number_task_update()",
    "DROP FUNCTION IF EXISTS task_search_number_task_delete()",
    "DROP FUNCTION IF EXISTS task_search_number_asset_insert()",
    "DROP FUNCTION IF EXISTS task_search_number_asset_update()",
    "DROP FUNCTION IF EXISTS task_search_number_asset_delete()",
    "DROP FUNCTION IF EXISTS task_search_number_truncate()",
    "DROP FUNCTION IF EXISTS task_search_numbers(jsonb)",
    "DROP TABLE IF EXISTS task_search_number",
]


def install_number_index(schema_editor, *, backfill: bool = True) -> None:
    """Create (or replace) the numeric side table, its triggers, and fill it from existing rows.

    Idempotent. Also called by the test-suite, whose database is built without migrations.
    """
    schema_editor.execute(NUMBER_INDEX_SQL)
    if backfill:
        schema_editor.execute("TRUNCATE task_search_number")
        for sql in NUMBER_INDEX_BACKFILL:
            schema_editor.execute(sql)


def drop_number_index(schema_editor) -> None:
    for sql in NUMBER_INDEX_DROP:
        schema_editor.execute(sql)


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
    install_number_index(schema_editor)


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    drop_number_index(schema_editor)
    for name, _ in INDEXES + TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0002_task_last_event_at"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
