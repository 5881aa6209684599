"""Sales targets and sales by owner (issue 29): a sales rep sees its own sales figures and
targets, a sales manager edits the targets. Refill the role groups.

The groups are set to exactly accounts.roles.ROLE_PERMISSIONS again, as 0002 does.
"""

import importlib

from django.db import migrations


def refill_roles(apps, schema_editor):
    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_trust_surface_exchange_rate_permissions"),
        ("deals", "0004_history_rates_targets"),  # deals.SalesTarget
        ("insights", "0021_owners_own_sales_permission"),  # insights.view_own_sales
    ]

    operations = [migrations.RunPython(refill_roles, migrations.RunPython.noop)]
