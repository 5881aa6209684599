# Service percentiles from sorted, indexed runs (issue 30): ServiceDayGroup's runs become
# sorted with an index; ServiceWeekGroup and ServiceMonthGroup hold whole weeks and months.

from django.db import migrations, models

RUNS = ("first_response", "resolution", "first_response_business")


def runs_uncompressed(apps, schema_editor) -> None:
    """PostgreSQL: store the runs uncompressed, so substr() of a run reads only the pages of
    its slice (a compressed value is decompressed from its start on every read)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for model in ("ServiceDayGroup", "ServiceWeekGroup", "ServiceMonthGroup"):
        table = apps.get_model("insights", model)._meta.db_table
        for column in RUNS:
            schema_editor.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET STORAGE EXTERNAL"
            )


def service_rollups_rebuild_whole(apps, schema_editor) -> None:
    """The day groups written before hold unsorted runs without an index, which the reads
    cannot use: drop them, and clear the service state's key so the next rebuild (incremental
    too) rewrites the service rollups whole (insights.families.ServiceRollups)."""
    apps.get_model("insights", "ServiceDayGroup").objects.all().delete()
    apps.get_model("insights", "ServiceState").objects.update(calendar_key="")


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0024_customer_value_inputs'),
    ]

    operations = [
        migrations.AddField(
            model_name='servicedaygroup',
            name='first_response_business_index',
            field=models.BinaryField(default=b''),
        ),
        migrations.AddField(
            model_name='servicedaygroup',
            name='first_response_index',
            field=models.BinaryField(default=b''),
        ),
        migrations.AddField(
            model_name='servicedaygroup',
            name='resolution_index',
            field=models.BinaryField(default=b''),
        ),
        migrations.AddField(
            model_name='servicedaygroup',
            name='step',
            field=models.SmallIntegerField(default=0),
        ),
        migrations.CreateModel(
            name='ServiceMonthGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dim', models.CharField(max_length=7)),
                ('label', models.CharField(max_length=150)),
                ('rooms', models.IntegerField()),
                ('resolved', models.IntegerField()),
                ('rated', models.IntegerField()),
                ('csat_sum', models.BigIntegerField()),
                ('csat_high', models.IntegerField()),
                ('fcr', models.IntegerField()),
                ('width', models.SmallIntegerField()),
                ('step', models.SmallIntegerField(default=0)),
                ('first_response', models.BinaryField()),
                ('resolution', models.BinaryField()),
                ('first_response_index', models.BinaryField(default=b'')),
                ('resolution_index', models.BinaryField(default=b'')),
                ('first_response_met', models.IntegerField(default=0)),
                ('first_response_breached', models.IntegerField(default=0)),
                ('first_response_pending', models.IntegerField(default=0)),
                ('resolution_met', models.IntegerField(default=0)),
                ('resolution_breached', models.IntegerField(default=0)),
                ('resolution_pending', models.IntegerField(default=0)),
                ('first_response_cal_met', models.IntegerField(default=0)),
                ('first_response_cal_breached', models.IntegerField(default=0)),
                ('resolution_cal_met', models.IntegerField(default=0)),
                ('resolution_cal_breached', models.IntegerField(default=0)),
                ('first_response_business', models.BinaryField(default=b'')),
                ('first_response_business_index', models.BinaryField(default=b'')),
                ('month', models.IntegerField()),
            ],
            options={
                'verbose_name': 'service month group',
                'constraints': [models.UniqueConstraint(fields=('month', 'dim', 'label'), name='servicemonthgroup_grain')],
            },
        ),
        migrations.CreateModel(
            name='ServiceWeekGroup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('dim', models.CharField(max_length=7)),
                ('label', models.CharField(max_length=150)),
                ('rooms', models.IntegerField()),
                ('resolved', models.IntegerField()),
                ('rated', models.IntegerField()),
                ('csat_sum', models.BigIntegerField()),
                ('csat_high', models.IntegerField()),
                ('fcr', models.IntegerField()),
                ('width', models.SmallIntegerField()),
                ('step', models.SmallIntegerField(default=0)),
                ('first_response', models.BinaryField()),
                ('resolution', models.BinaryField()),
                ('first_response_index', models.BinaryField(default=b'')),
                ('resolution_index', models.BinaryField(default=b'')),
                ('first_response_met', models.IntegerField(default=0)),
                ('first_response_breached', models.IntegerField(default=0)),
                ('first_response_pending', models.IntegerField(default=0)),
                ('resolution_met', models.IntegerField(default=0)),
                ('resolution_breached', models.IntegerField(default=0)),
                ('resolution_pending', models.IntegerField(default=0)),
                ('first_response_cal_met', models.IntegerField(default=0)),
                ('first_response_cal_breached', models.IntegerField(default=0)),
                ('resolution_cal_met', models.IntegerField(default=0)),
                ('resolution_cal_breached', models.IntegerField(default=0)),
                ('first_response_business', models.BinaryField(default=b'')),
                ('first_response_business_index', models.BinaryField(default=b'')),
                ('week', models.IntegerField()),
            ],
            options={
                'verbose_name': 'service week group',
                'constraints': [models.UniqueConstraint(fields=('week', 'dim', 'label'), name='serviceweekgroup_grain')],
            },
        ),
        migrations.RunPython(runs_uncompressed, migrations.RunPython.noop),
        migrations.RunPython(service_rollups_rebuild_whole, migrations.RunPython.noop),
    ]
