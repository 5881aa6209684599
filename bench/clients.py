"""The credentials the load test and the request-cost bench send: a manager, not a superuser.

A superuser skips every permission query; the sales manager who opens the dashboard at nine
holds insights.view_insights through a group (the Sales manager role), so that is what the
benches authenticate as.
Call after django.setup().
"""

from __future__ import annotations

from importlib import import_module

MANAGER = "bench-manager"
GROUP = "Insights managers (bench)"
PERMISSIONS = (
    ("insights", "view_insights"),
    ("insights", "run_rebuild"),
    ("accounts", "view_personal_data"),
)


def manager_user():
    """The bench manager: staff, not superuser, permissions through a group (idempotent).

    The group is the Sales manager role of accounts.roles when the database has it, else a
    bench group holding the insights permissions.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import SALES_MANAGER

    group = Group.objects.filter(name=SALES_MANAGER).first()
    if group is None:  # the role's own permissions are never changed here
        group, _ = Group.objects.get_or_create(name=GROUP)
        for app_label, codename in PERMISSIONS:
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:  # one another branch has not added yet is skipped
                group.permissions.add(permission)
    user, _ = get_user_model().objects.get_or_create(
        username=MANAGER, defaults={"is_staff": True, "is_superuser": False}
    )
    user.groups.add(group)
    return user


def manager_token() -> str:
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=manager_user())[0].key


def manager_session_cookie(*, user=None) -> str:
    """A `name=value` Cookie header of a fresh logged-in admin session (default: the manager)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    user = user or manager_user()
    model_backend = "django.contrib.auth.backends.ModelBackend"
    backends = list(settings.AUTHENTICATION_BACKENDS)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = model_backend if model_backend in backends else backends[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
