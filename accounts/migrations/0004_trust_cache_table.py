"""The database cache table (settings.CACHES without Redis): the API throttle's shared counters.

createcachetable creates the table of every database cache in settings and skips existing
ones, so running it here is safe on any database; with a Redis cache it does nothing.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_trust_records_to_fix_permissions")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
