from django.contrib import admin

from .models import ErasureRecord, ExportRecord, ImportJob


@admin.register(ExportRecord)
class ExportRecordAdmin(admin.ModelAdmin):
    """Read-only: an audit trail is written by the exports, never edited by hand."""

    list_display = (
        "created_at",
        "username",
        "endpoint",
        "format",
        "row_count",
        "complete",
        "params",
    )
    list_filter = ("format", "endpoint", "created_at")
    search_fields = ("username",)
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = (
        "created_at",
        "user",
        "username",
        "endpoint",
        "format",
        "row_count",
        "complete",
        "params",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # append-only for everyone, a superuser too (issue 27 item 23)


@admin.register(ErasureRecord)
class ErasureRecordAdmin(admin.ModelAdmin):
    """Read-only: written by privacy.erasure.customer_erase, never by hand."""

    list_display = ("created_at", "username", "customer_id", "counts", "rebuild_run_id")
    list_filter = ("created_at",)
    search_fields = ("username", "customer_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = ("created_at", "user", "username", "customer_id", "counts", "rebuild_run_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record of an erasure outlives everything it erased


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: who loaded which file through the admin's Import CSV page, with its counts."""

    list_display = (
        "created_at",
        "username",
        "kind",
        "file_name",
        "dry_run",
        "status",
        "created",
        "updated",
        "unchanged",
        "rejected",
    )
    list_filter = ("kind", "dry_run", "status", "created_at")
    search_fields = ("username", "file_name")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    exclude = ("path",)
    readonly_fields = (
        "created_at",
        "user",
        "username",
        "kind",
        "file_name",
        "size",
        "dry_run",
        "confirms",
        "status",
        "rows_done",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "first_rejections",
        "error",
        "finished_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
