# Sales by owner (METRICS.md O): the deal facts' owner and the per-owner grain of the facts.
# Also the merge of the two 0016 migrations (forecast, health), which do not depend on each other.

from django.db import migrations, models


def rollups_rebuild_whole(apps, schema_editor) -> None:
    """The facts written before owner_id existed lack it and OwnerDaySum is empty: log a
    whole-table change, so the next rebuild rewrites every rollup."""
    apps.get_model("insights", "ChangedRecord").objects.create(kind="deal", record_id=None)


class Migration(migrations.Migration):

    dependencies = [
        ("insights", "0016_forecast_deal_facts"),
        ("insights", "0016_health_scores"),
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
                ("weighted", models.DecimalField(decimal_places=0, default=0, max_digits=38)),
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
        migrations.RunPython(rollups_rebuild_whole, migrations.RunPython.noop),
    ]
