"""Admin for rebuild runs, with "Rebuild now" (permission insights.run_rebuild).

The nightly schedule is django-celery-beat's "Nightly insights rebuild" periodic task.
"""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import (
    admin_chatrooms,  # noqa: F401  (chat rooms' service-level drill-downs)
    admin_customers,  # noqa: F401  (customer list, saved segments)
)
from .enqueue import Outcome, rebuild_request, rebuild_runs_reap
from .models import RebuildRun

logger = logging.getLogger(__name__)


def rebuild_enqueue(*, request: HttpRequest) -> None:
    """Queue the rebuild (runs in-process when no broker is configured) and say what happened."""
    if not request.user.has_perm("insights.run_rebuild"):
        raise PermissionDenied
    answer = rebuild_request(trigger=f"admin: {request.user.get_username()}")
    level = messages.SUCCESS if answer.ok else messages.WARNING
    if answer.outcome in (Outcome.FAILED, Outcome.UNREACHABLE):
        level = messages.ERROR
    messages.add_message(request, level, answer.message)


@admin.register(RebuildRun)
class RebuildRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "finished_at", "duration", "status", "trigger", "short_error")
    list_filter = ("status",)
    readonly_fields = (
        "started_at", "finished_at", "status", "trigger", "rows", "timings", "error",
    )  # fmt: skip
    actions = ["rebuild_now"]
    change_list_template = "admin/insights/rebuildrun/change_list.html"

    @admin.display(description=_("duration (s)"))
    def duration(self, run: RebuildRun) -> str:
        seconds = run.duration_seconds
        return "" if seconds is None else f"{seconds:.1f}"

    @admin.display(description=_("error"))
    def short_error(self, run: RebuildRun) -> str:
        return run.error[:80]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_run_rebuild_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("insights.run_rebuild")

    @admin.action(description=_("Rebuild now"), permissions=["run_rebuild"])
    def rebuild_now(self, request: HttpRequest, queryset) -> None:
        rebuild_enqueue(request=request)

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.rebuild_now_view))
        return [
            path("rebuild-now/", view, name="insights_rebuildrun_rebuild_now"),
            *super().get_urls(),
        ]

    def rebuild_now_view(self, request: HttpRequest) -> HttpResponseRedirect:
        rebuild_enqueue(request=request)
        return HttpResponseRedirect(reverse("admin:insights_rebuildrun_changelist"))

    def changelist_view(self, request: HttpRequest, extra_context=None):
        rebuild_runs_reap()  # a run a killed process left "running" shows as failed
        extra_context = {
            **(extra_context or {}),
            "can_rebuild": self.has_run_rebuild_permission(request),
        }
        return super().changelist_view(request, extra_context)
