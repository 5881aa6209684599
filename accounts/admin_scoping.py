"""Owner scoping for admin: a sales rep sees and edits only the records they own.

A user holding accounts.view_all_records (a sales manager; superusers hold every permission)
sees every row. Everyone else gets the rows whose owner is themselves, may not hand a record
to someone else (owner is read-only for them), and a record they add is theirs.

The rules are plain functions so the admin forms and the Import CSV page (imports.scoping)
apply the very same ones; OwnerScopedAdminMixin is their admin face.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from accounts.roles import VIEW_ALL_RECORDS


def sees_all_records(user: Any) -> bool:
    """True for a user holding accounts.view_all_records (superusers included)."""
    return bool(user.is_active and user.has_perm(VIEW_ALL_RECORDS))


def owner_scoped(queryset: QuerySet, user: Any, owner_field: str = "owner") -> QuerySet:
    """The rows of `queryset` that `user` may see and change."""
    if sees_all_records(user):
        return queryset
    return queryset.filter(**{owner_field: user})


def owner_scoped_via(queryset: QuerySet, user: Any, relation: str) -> QuerySet:
    """The rows of `queryset` reached through `relation` (an owned model) that `user` may see:
    those whose related record is theirs, and those without one (a survey answer given in a
    chat has no owner)."""
    if sees_all_records(user):
        return queryset
    return queryset.filter(Q(**{f"{relation}__isnull": True}) | Q(**{f"{relation}__owner": user}))


def may_own(user: Any, owner_id: int | None) -> bool:
    """Whether a record owned by `owner_id` is one `user` may see and change."""
    return sees_all_records(user) or (owner_id is not None and owner_id == user.pk)


def may_assign_owner(user: Any, owner_id: int | None) -> bool:
    """Whether `user` may set a record's owner to `owner_id` (None: no owner).

    Owner is read-only for a scoped user: only the owner a record already has (themselves)."""
    return sees_all_records(user) or owner_id == user.pk


def new_record_owner(user: Any, owner_id: int | None) -> int:
    """The owner a new record gets: a scoped user's is always theirs, an unowned one its
    creator's."""
    if owner_id is None or not sees_all_records(user):
        return user.pk
    return owner_id


def may_add(user: Any, model: type[models.Model]) -> bool:
    """ModelAdmin.has_add_permission's rule: the model's add permission."""
    opts = model._meta
    return bool(user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}"))


def may_change(user: Any, model: type[models.Model]) -> bool:
    """ModelAdmin.has_change_permission's rule: the model's change permission."""
    opts = model._meta
    return bool(user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}"))


class OwnerScopedAdminMixin:
    """For a ModelAdmin whose model has an `owner` foreign key to the user.

    owner_scoped_relations: foreign keys of the model to other owned models (a deal's
    contact); a scoped user may only pick rows of their own there.
    """

    owner_field = "owner"
    owner_scoped_relations: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return owner_scoped(super().get_queryset(request), request.user, self.owner_field)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault(self.owner_field, request.user.pk)
        return initial

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        fields = list(super().get_readonly_fields(request, obj))
        if not sees_all_records(request.user) and self.owner_field not in fields:
            fields.append(self.owner_field)
        return fields

    def get_list_filter(self, request: HttpRequest):
        filters = list(super().get_list_filter(request))
        if sees_all_records(request.user):
            return filters
        # Filtering by owner is moot and its choices would list every other user.
        return [f for f in filters if f != self.owner_field]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        if db_field.name in self.owner_scoped_relations and not sees_all_records(request.user):
            related = db_field.related_model._default_manager
            kwargs["queryset"] = owner_scoped(related.all(), request.user, self.owner_field)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # A new record without an owner is its creator's; a scoped user's new record always is.
        if not change:
            owner_id = getattr(obj, f"{self.owner_field}_id")
            setattr(obj, f"{self.owner_field}_id", new_record_owner(request.user, owner_id))
        super().save_model(request, obj, form, change)


class ReadOnlyListAdmin(admin.ModelAdmin):
    """A list people read and never edit (data problems to fix elsewhere): shown to holders of
    `view_permission`; nobody adds, changes or deletes through it."""

    view_permission = ""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_permission)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
