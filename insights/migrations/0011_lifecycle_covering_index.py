"""PostgreSQL: the lapse-chain index covers what the lifecycle reads (index-only range scans).

In its own migration: 0006 creates the model's plain index only when it ends (deferred SQL).
SQLite has no covering indexes and keeps the plain one.
"""

from django.db import migrations


def _covering_index(apps, schema_editor):
    """PostgreSQL: lapsechain_lookup covers the columns the lifecycle reads (index-only scans)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("insights", "LapseChain")._meta.db_table
    schema_editor.execute("DROP INDEX IF EXISTS lapsechain_lookup")
    schema_editor.execute(
        f"CREATE INDEX lapsechain_lookup ON {table} (last_day, lo) "
        "INCLUDE (hi, prev, first_day, customers)"
    )


class Migration(migrations.Migration):
    dependencies = [("insights", "0010_lifecycle_rollups")]

    operations = [migrations.RunPython(_covering_index, migrations.RunPython.noop)]
