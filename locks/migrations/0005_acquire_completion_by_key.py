"""``stardag_lock_acquire`` finds the task whose completion it checks through the task key's unique
index (``task_id`` first, ``tasks.0011``), with the environment compared in a form no index
serves, as ``tasks.models.TaskQuerySet.by_key`` does: on a table never analysed, PostgreSQL
otherwise took an environment-wide index and walked every task of the environment (issue 10).

The function is ``0004``'s with that one condition changed (both of its completion checks);
``0004`` is frozen, so its text is a fixed base. Reversing restores ``0004``'s function.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("locks.migrations.0004_acquire_function")

OLD_CHECK = "t.environment_id = p_environment\n"
NEW_CHECK = "t.environment_id IS NOT DISTINCT FROM p_environment\n"
ACQUIRE_FUNCTION = previous.ACQUIRE_FUNCTION.replace(OLD_CHECK, NEW_CHECK)
assert ACQUIRE_FUNCTION.count(NEW_CHECK) == 2, "0004's completion checks are not where expected"


def forward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ACQUIRE_FUNCTION)


def backward(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(previous.ACQUIRE_FUNCTION)


class Migration(migrations.Migration):

    dependencies = [
        ("locks", "0004_acquire_function"),
        ("tasks", "0011_task_key_index_task_id_first"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
    ]
