# Sales by owner (METRICS.md O): the deal facts' owner and the per-owner grain of the facts.

import importlib

from django.db import migrations, models


def change_log_triggers_relay(apps, schema_editor) -> None:
    """Lay the change-log triggers of 0015 again. SQLite drops a table's triggers when a
    migration rebuilds the table (the schema round rebuilt deals, chat rooms and survey
    answers, and may run after 0015): without them no deal edit would reach a rebuild."""
    change_log = importlib.import_module("insights.migrations.0015_change_log")
    change_log.triggers_drop(apps, schema_editor)
    change_log.triggers_create(apps, schema_editor)


def rollups_rebuild_whole(apps, schema_editor) -> None:
    """The facts written before owner_id existed lack it and OwnerDaySum is empty: log a
    whole-table change, so the next rebuild rewrites every rollup."""
    apps.get_model("insights", "ChangedRecord").objects.create(kind="deal", record_id=None)


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0019_trust_surface_deal_rate"),
        # After every rebuild of a watched table (see change_log_triggers_relay).
        ("deals", "0006_trust_surface_deal_without_rate"),
        ("chats", "0006_history_rates_targets"),
        ("customers", "0009_dirty_records_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="dealfact",
            name="owner_id",
            field=models.BigIntegerField(default=0),
        ),
        migrations.CreateModel(
            name="OwnerDaySum",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(max_length=8)),
                ("owner_id", models.BigIntegerField()),
                ("day", models.IntegerField()),
                ("cycle_days", models.IntegerField(default=0)),
                ("deals", models.BigIntegerField(default=0)),
                ("amount", models.DecimalField(decimal_places=0, default=0, max_digits=38)),
            ],
            options={
                "verbose_name": "owner day sum",
                "indexes": [models.Index(fields=["day", "kind"], name="ownerdaysum_lookup")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "owner_id", "day", "cycle_days"), name="ownerdaysum_grain"
                    )
                ],
            },
        ),
        migrations.RunPython(change_log_triggers_relay, migrations.RunPython.noop),
        migrations.RunPython(rollups_rebuild_whole, migrations.RunPython.noop),
    ]
