"""The database table of the rate limiter's cache (``CACHES["ratelimit"]``), created by
``createcachetable`` so that ``migrate`` alone prepares a zero-configuration start. With
``REDIS_URL`` set there is no database cache and this does nothing; ``createcachetable`` is
idempotent and can be run again after switching back."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [("accounts", "0002_user_email_verified")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
