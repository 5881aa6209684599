"""Lay the change-log triggers from insights.watched, the one list of what the figures read.

The triggers are the ones 0015 and 0019 laid (same SQL), now written from that list. A later
change of the list, or a migration that rebuilds a watched table on SQLite (which drops the
table's triggers), adds a migration like this one; tests/insights/test_families.py compares
the list with the triggers the database has.
"""

from django.db import migrations


def triggers_lay(apps, schema_editor) -> None:
    from insights.watched import triggers_lay as lay

    lay(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0021_owners_own_sales_permission"),
        # After the last migration of every app that owns a watched table.
        ("deals", "0006_trust_surface_deal_without_rate"),
        ("chats", "0006_history_rates_targets"),
        ("customers", "0009_dirty_records_index"),
    ]

    operations = [migrations.RunPython(triggers_lay, migrations.RunPython.noop)]
