"""A user's permissions in one query, stored where Django's ModelBackend caches them.

ModelBackend answers the first `has_perm` of a request with two ORM queries (the user's own
permissions, then its groups'), each costing more to build than to run; bench.request_cost
measured them as the largest part of an API request's fixed cost. One plain statement reads
both sets and fills the per-user cache (`_perm_cache`) that ModelBackend then reads, so every
backend still decides as before, masking checks later in the request cost nothing, and a
permission revoked in admin counts from the very next request (nothing outlives the request).
"""

from functools import cache
from typing import Any

from django.db import connection


@cache
def _permissions_sql() -> str:
    # Imported here: DRF imports the API's permission class while reading its settings.
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    user_model = get_user_model()
    user_perms = user_model._meta.get_field("user_permissions")
    groups = user_model._meta.get_field("groups")
    group_perms = groups.related_model._meta.get_field("permissions")
    q = connection.ops.quote_name
    return f"""
        SELECT ct.{q("app_label")}, p.{q("codename")}
        FROM {q(Permission._meta.db_table)} p
        JOIN {q(ContentType._meta.db_table)} ct ON ct.{q("id")} = p.{q("content_type_id")}
        WHERE p.{q("id")} IN (
            SELECT up.{q(user_perms.m2m_reverse_name())}
            FROM {q(user_perms.m2m_db_table())} up
            WHERE up.{q(user_perms.m2m_column_name())} = %(user)s
            UNION
            SELECT gp.{q(group_perms.m2m_reverse_name())}
            FROM {q(group_perms.m2m_db_table())} gp
            JOIN {q(groups.m2m_db_table())} ug
              ON ug.{q(groups.m2m_reverse_name())} = gp.{q(group_perms.m2m_column_name())}
            WHERE ug.{q(groups.m2m_column_name())} = %(user)s
        )
    """


def user_permissions_preload(*, user: Any) -> None:
    """Fill `user`'s ModelBackend permission cache with one query, unless nothing would read it.

    Anonymous, inactive and superuser accounts are left alone: ModelBackend answers those
    without a query. A user whose cache is already filled is not read again.
    """
    if (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or user.is_superuser
        or hasattr(user, "_perm_cache")
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute(_permissions_sql(), {"user": user.pk})
        rows = cursor.fetchall()
    user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
