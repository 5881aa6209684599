"""Create the four role groups of issue 8 with their permissions.

Permissions are normally created by a post_migrate signal, after every migration has run, so
on a fresh database they do not exist yet here: create_permissions is called for each app
first (the usual trick), then the groups are filled. Re-running is harmless (get_or_create,
and the group's permissions are set to exactly the table's).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import ROLE_PERMISSIONS

APPS = ("auth", "contenttypes", "customers", "deals", "chats", "insights", "audit", "accounts")


def create_roles(apps, schema_editor):
    for label in APPS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # historical app configs lack it; create_permissions skips those
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            # ROLE_PERMISSIONS is today's list; a model it names may not exist yet at this
            # point of the history (a later migration refills the groups, e.g. accounts 0003).
            if found is not None:
                wanted.append(found)
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("customers", "0004_customer_slim_indexes"),
        ("deals", "0002_default_pipeline"),
        ("chats", "0001_initial"),
        ("insights", "0005_gapcell_cum"),
        ("audit", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
