"""The task key's unique index leads with ``task_id``: every SDK call's task lookup goes through it
with the environment compared in a form no index serves (``TaskQuerySet.by_key``), so that no
environment-wide index can be chosen in its place when statistics are missing (issue 10).

One transaction on PostgreSQL: no moment without the constraint is ever visible.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('builds', '0005_v2_protocol'),
        ('tasks', '0010_search_insert_trigger'),
        ('workspaces', '0002_environment_build_retention_days'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='task',
            name='unique_task_id_per_env',
        ),
        migrations.AddConstraint(
            model_name='task',
            constraint=models.UniqueConstraint(fields=('task_id', 'environment'),
                                               name='unique_task_id_per_env'),
        ),
    ]
