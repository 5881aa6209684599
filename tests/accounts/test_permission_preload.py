"""accounts.permission_preload: a user's own and group permissions in one query."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.permission_preload import user_permissions_preload
from tests.factories import UserFactory


def _perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


@pytest.mark.django_db
def test_preload_reads_own_and_group_permissions_in_one_query():
    # given: one permission of its own, two through a group, one through a second group
    user = UserFactory()
    user.user_permissions.add(_perm("view_insights"))
    managers = Group.objects.create(name="m")
    managers.permissions.add(_perm("run_rebuild"), _perm("view_personal_data"))
    auditors = Group.objects.create(name="a")
    auditors.permissions.add(_perm("view_exportrecord"))
    user.groups.add(managers, auditors)
    Group.objects.create(name="other").permissions.add(_perm("view_deal"))
    # when
    with CaptureQueriesContext(connection) as queries:
        user_permissions_preload(user=user)
        answers = [
            user.has_perm("insights.view_insights"),
            user.has_perm("insights.run_rebuild"),
            user.has_perm("accounts.view_personal_data"),
            user.has_perm("audit.view_exportrecord"),
            user.has_perm("deals.view_deal"),
        ]
    # then: the same answers ModelBackend gives, from one statement
    assert answers == [True, True, True, True, False]
    assert len(queries) == 1
    assert user._perm_cache == {
        "insights.view_insights",
        "insights.run_rebuild",
        "accounts.view_personal_data",
        "audit.view_exportrecord",
    }


@pytest.mark.django_db
def test_preload_agrees_with_model_backend():
    # given
    user = UserFactory()
    group = Group.objects.create(name="g")
    group.permissions.add(_perm("view_insights"), _perm("view_customer"))
    user.groups.add(group)
    user.user_permissions.add(_perm("view_customer"), _perm("change_deal"))
    fresh = type(user).objects.get(pk=user.pk)
    # when
    user_permissions_preload(user=user)
    # then
    assert user._perm_cache == fresh.get_all_permissions()


@pytest.mark.django_db
def test_preload_leaves_superusers_inactive_and_anonymous_alone(django_user_model):
    # given
    from django.contrib.auth.models import AnonymousUser

    boss = UserFactory(is_superuser=True)
    gone = UserFactory(is_active=False)
    gone.user_permissions.add(_perm("view_insights"))
    anonymous = AnonymousUser()
    # when
    with CaptureQueriesContext(connection) as queries:
        for user in (boss, gone, anonymous):
            user_permissions_preload(user=user)
    # then: no query; ModelBackend still answers them (inactive: nothing)
    assert len(queries) == 0
    assert not hasattr(boss, "_perm_cache") and not hasattr(gone, "_perm_cache")
    assert boss.has_perm("insights.view_insights")
    assert not gone.has_perm("insights.view_insights")


@pytest.mark.django_db
def test_preload_does_not_read_twice():
    # given
    user = UserFactory()
    user_permissions_preload(user=user)
    user.user_permissions.add(_perm("view_insights"))
    # when
    with CaptureQueriesContext(connection) as queries:
        user_permissions_preload(user=user)
    # then: a request's user object keeps what it read (the next request reads afresh)
    assert len(queries) == 0
    assert user._perm_cache == set()
