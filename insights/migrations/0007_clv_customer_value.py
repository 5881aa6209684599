
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0004_customer_slim_indexes'),
        ('insights', '0006_arch_readable_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerValue',
            fields=[
                ('customer', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='value', serialize=False, to='customers.customer')),
                ('p_alive', models.FloatField(db_index=True, verbose_name='P(alive)')),
                ('expected_purchases', models.FloatField(verbose_name='expected buying days')),
                ('expected_value', models.DecimalField(decimal_places=2, max_digits=20, verbose_name='expected value of a buying day')),
                ('predicted_clv', models.DecimalField(db_index=True, decimal_places=2, max_digits=20, verbose_name='predicted value')),
            ],
            options={
                'verbose_name': 'customer predicted value',
                'verbose_name_plural': 'customer predicted values',
            },
        ),
        migrations.CreateModel(
            name='CustomerValueFit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('as_of_day', models.IntegerField()),
                ('horizon', models.IntegerField()),
                ('fitted', models.BooleanField(default=False)),
                ('r', models.FloatField(null=True)),
                ('alpha', models.FloatField(null=True)),
                ('a', models.FloatField(null=True)),
                ('b', models.FloatField(null=True)),
                ('p', models.FloatField(null=True)),
                ('q', models.FloatField(null=True)),
                ('gamma', models.FloatField(null=True)),
                ('log_likelihood', models.FloatField(null=True)),
                ('message', models.CharField(blank=True, max_length=255)),
            ],
            options={
                'verbose_name': 'customer value fit',
            },
        ),
    ]
