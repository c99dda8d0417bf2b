"""``stardag_lock_acquire``: the uncapped acquire as one statement on PostgreSQL (issue 10).

The SDK acquires a lock before every task it runs, and under contention most acquires are
refusals. The acquire used to take five round trips after authentication on the fast path:
``BEGIN``, the upsert, the completion check, ``COMMIT`` (and a read of the row for a refusal).
Each round trip costs the worker ~0.1 ms of CPU and PostgreSQL its own statement overhead.

This function does the same work in one statement, in autocommit:

1. The upsert (``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` free-or-mine), exactly as
   ``locks.services`` runs it on SQLite.
2. If it granted and completion is to be checked: the completion check. The function is
   ``VOLATILE``, so under READ COMMITTED this query takes a *fresh* snapshot, after any wait for
   the row lock in step 1 — the same guarantee as the separate statement it replaces: a release
   that recorded ``task_completed`` and freed the row in one transaction is seen by the acquire
   that takes the freed row. If the task is completed, the grant is undone by raising inside a
   sub-block (a savepoint), and ``already_completed`` is returned: the lock row is untouched.
3. If it did not grant: the lease, the environment's cap and the task's completion, read in one
   query (one snapshot), for ``locks.services`` to decide a plain refusal (423) from, against a
   clock read afterwards (``_refuse_early_if_held``). ``absent``: no row (a capped environment
   skips the insert) — the caller takes the general path.

PostgreSQL only, hand-written and frozen here like ``tasks.0009_search_rows``: a later change to
the acquire rules replaces the function in a new migration. SQLite keeps the statements in
``locks.services``; the lock tests run on both databases.
"""

from django.db import migrations

ACQUIRE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION stardag_lock_acquire(
    p_environment uuid, p_name text, p_owner varchar, p_now timestamptz,
    p_expires timestamptz, p_check_completion boolean,
    OUT outcome text, OUT granted_id bigint, OUT granted_version bigint,
    OUT held_owner varchar, OUT held_expires_at timestamptz,
    OUT held_released_at timestamptz, OUT environment_cap integer,
    OUT task_completed boolean)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
    BEGIN
        INSERT INTO locks_lock AS l
            (environment_id, name, owner_id, acquired_at, expires_at, version, released_at)
        SELECT p_environment, p_name, p_owner, p_now, p_expires, 0, NULL
        WHERE NOT EXISTS (SELECT 1 FROM workspaces_environment e
                          WHERE e.id = p_environment AND e.max_concurrent_locks IS NOT NULL)
        ON CONFLICT (environment_id, name) DO UPDATE SET
            owner_id = excluded.owner_id, acquired_at = excluded.acquired_at,
            expires_at = excluded.expires_at, released_at = NULL, version = l.version + 1
        WHERE l.released_at IS NOT NULL OR l.expires_at <= excluded.acquired_at
            OR l.owner_id = excluded.owner_id
        RETURNING l.id, l.version INTO granted_id, granted_version;
        IF granted_id IS NOT NULL AND p_check_completion AND EXISTS (
                SELECT 1 FROM builds_event ev JOIN tasks_task t ON ev.task_id = t.id
                WHERE ev.event_type = 'task_completed' AND t.environment_id = p_environment
                  AND t.task_id = p_name) THEN
            RAISE EXCEPTION USING ERRCODE = 'SDL01';  -- undoes the grant above
        END IF;
    EXCEPTION WHEN SQLSTATE 'SDL01' THEN
        outcome := 'already_completed';
        granted_id := NULL;
        granted_version := NULL;
        RETURN;
    END;
    IF granted_id IS NOT NULL THEN
        outcome := 'acquired';
        RETURN;
    END IF;
    SELECT l.owner_id, l.expires_at, l.released_at, e.max_concurrent_locks,
           p_check_completion AND EXISTS (
               SELECT 1 FROM builds_event ev JOIN tasks_task t ON ev.task_id = t.id
               WHERE ev.event_type = 'task_completed' AND t.environment_id = p_environment
                 AND t.task_id = p_name)
      INTO held_owner, held_expires_at, held_released_at, environment_cap, task_completed
      FROM locks_lock l JOIN workspaces_environment e ON e.id = l.environment_id
     WHERE l.environment_id = p_environment AND l.name = p_name;
    outcome := CASE WHEN FOUND THEN 'refused' ELSE 'absent' END;
END
$fn$;
"""

DROP_FUNCTION = ("DROP FUNCTION IF EXISTS stardag_lock_acquire("
                 "uuid, text, varchar, timestamptz, timestamptz, boolean)")


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ACQUIRE_FUNCTION)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION)


class Migration(migrations.Migration):

    dependencies = [
        ("locks", "0003_concurrencylimit"),
        ("builds", "0005_v2_protocol"),
        ("tasks", "0009_search_rows"),
        ("workspaces", "0002_environment_build_retention_days"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
