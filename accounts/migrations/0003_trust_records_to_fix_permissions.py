"""The data-quality lists (issue 13 item 1) and survey responses (issue 16) get their own
permissions: refill the role groups.

The groups are set to exactly accounts.roles.ROLE_PERMISSIONS again, as 0002 does.
"""

import importlib

from django.db import migrations


def refill_roles(apps, schema_editor):
    importlib.import_module("accounts.migrations.0002_roles").create_roles(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        # The chat list moved to chats (its permission is chats.view_chatcontacttofix).
        ("chats", "0003_service_first_response_surveys"),
        ("customers", "0005_arch_chatcontacttofix_moved_to_chats"),
    ]

    operations = [migrations.RunPython(refill_roles, migrations.RunPython.noop)]
