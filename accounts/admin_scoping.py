"""Owner scoping for admin: a sales rep sees and edits only the records they own.

A user holding accounts.view_all_records (a sales manager; superusers hold every permission)
sees every row. Everyone else gets the rows whose owner is themselves, may not hand a record
to someone else (owner is read-only for them), and a record they add is theirs.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.roles import VIEW_ALL_RECORDS


def sees_all_records(user: Any) -> bool:
    """True for a user holding accounts.view_all_records (superusers included)."""
    return bool(user.is_active and user.has_perm(VIEW_ALL_RECORDS))


class OwnerScopedAdminMixin:
    """For a ModelAdmin whose model has an `owner` foreign key to the user.

    owner_scoped_relations: foreign keys of the model to other owned models (a deal's
    contact); a scoped user may only pick rows of their own there.
    """

    owner_field = "owner"
    owner_scoped_relations: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if sees_all_records(request.user):
            return queryset
        return queryset.filter(**{self.owner_field: request.user})

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
            kwargs["queryset"] = related.filter(**{self.owner_field: request.user})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # A new record without an owner is its creator's; a scoped user's new record always is.
        unowned = getattr(obj, f"{self.owner_field}_id") is None
        if not change and (unowned or not sees_all_records(request.user)):
            setattr(obj, self.owner_field, request.user)
        super().save_model(request, obj, form, change)
