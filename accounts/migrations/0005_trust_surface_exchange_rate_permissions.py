"""Exchange rates and the list of deals without one (METRICS.md §3) get their permissions:
refill the role groups, as 0002 does, with accounts.roles.ROLE_PERMISSIONS of today."""

import importlib

from django.db import migrations


def refill_roles(apps, schema_editor):
    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_trust_cache_table"),
        ("deals", "0006_trust_surface_deal_without_rate"),
    ]

    operations = [migrations.RunPython(refill_roles, migrations.RunPython.noop)]
