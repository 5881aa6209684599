"""Give the role groups their survey response permissions (accounts.roles.SURVEY_ROLE_PERMISSIONS)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import SURVEY_ROLE_PERMISSIONS


def add_survey_permissions(apps, schema_editor):
    app_config = apps.get_app_config("chats")
    app_config.models_module = True  # historical app configs lack it; create_permissions skips those
    create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in SURVEY_ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_survey_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in SURVEY_ROLE_PERMISSIONS.items():
        codenames = [perm.split(".")[1] for perm in perms]
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*Permission.objects.filter(codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("chats", "0002_service_first_response_surveys"),
    ]

    operations = [migrations.RunPython(add_survey_permissions, remove_survey_permissions)]
