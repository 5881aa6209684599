"""Rollups: readable metric and column names, and a UniqueConstraint on each table's grain.

Rows already stored are renamed in place, so figures read the same before the next rebuild.
"""

from django.db import migrations, models
from django.db.models.functions import Coalesce

# Metric names before and after (insights/metric_keys.py); "x" marked the first-seen-later rows.
GAP = {
    "act": "active",
    "deal": "deal_created",
    "wond": "won_created",
    "paid": "won_closed",
    "lost": "lost_closed",
}
RENAMED = {
    **GAP,
    **{f"{old}x": f"{new}_seen_later" for old, new in GAP.items()},
    "new": "new_customers",
    "src": "new_by_source",
    "co": "new_by_company",
    "dval": "deal_value_created",
    "rev": "won_revenue",
    "lostd": "lost_deals",
    "prod": "product_sales",
}


def rename_metrics(apps, schema_editor, mapping=RENAMED):
    for model in ("GapCell", "DailySum"):
        rows = apps.get_model("insights", model).objects
        for old, new in mapping.items():
            rows.filter(metric=old).update(metric=new)


def restore_metrics(apps, schema_editor):
    rename_metrics(apps, schema_editor, {new: old for old, new in RENAMED.items()})


def clear_figure_cache(apps, schema_editor):
    # Cached answers are keyed by run id and stay right; cleared anyway so nothing read before
    # the rename outlives it.
    apps.get_model("insights", "FigureCache").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0005_gapcell_cum"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="gapcell", name="gapcell_lookup"),
        migrations.RemoveIndex(model_name="repeatcell", name="repeatcell_lookup"),
        migrations.RemoveIndex(model_name="customerwonday", name="customerwonday_lookup"),
        migrations.RenameField(model_name="gapcell", old_name="prev", new_name="previous_day"),
        migrations.RenameField(model_name="gapcell", old_name="fs", new_name="first_seen_later"),
        migrations.RenameField(model_name="gapcell", old_name="cum", new_name="running_customers"),
        migrations.RenameField(model_name="dailysum", old_name="fs", new_name="first_seen_later"),
        migrations.RenameField(model_name="repeatcell", old_name="a1", new_name="first_won_day"),
        migrations.RenameField(model_name="repeatcell", old_name="a2", new_name="second_won_day"),
        migrations.AlterField(
            model_name="gapcell", name="metric", field=models.CharField(max_length=32)
        ),
        migrations.AlterField(
            model_name="dailysum", name="metric", field=models.CharField(max_length=32)
        ),
        migrations.RunPython(rename_metrics, restore_metrics, elidable=True),
        migrations.RunPython(clear_figure_cache, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="repeatcell",
            index=models.Index(
                fields=["first_won_day", "second_won_day"], name="repeatcell_lookup"
            ),
        ),
        migrations.AddConstraint(
            model_name="gapcell",
            constraint=models.UniqueConstraint(
                fields=("metric", "dim", "day", "previous_day", "first_seen_later"),
                name="gapcell_grain",
            ),
        ),
        migrations.AddConstraint(
            model_name="dailysum",
            constraint=models.UniqueConstraint(
                fields=("metric", "dim", "day", "first_seen_later"), name="dailysum_grain"
            ),
        ),
        migrations.AddConstraint(
            model_name="repeatcell",
            constraint=models.UniqueConstraint(
                models.F("first_won_day"),
                Coalesce(models.F("second_won_day"), models.Value(0)),
                name="repeatcell_grain",
            ),
        ),
        migrations.AddConstraint(
            model_name="customerwonday",
            constraint=models.UniqueConstraint(
                fields=("day", "customer_id"), name="customerwonday_grain"
            ),
        ),
    ]
