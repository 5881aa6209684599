"""The chat rooms admin list with the service-level drill-downs (METRICS.md §L); registered over
chats' ChatRoomAdmin (chats does not import insights).

`service_level=first_response_breached` (or `resolution_breached`, `..._met`, `..._pending`)
keeps the rooms with that status as of the last rebuild, read from the same rollup rows the
figures count (ServiceRoomFact), so that the dashboard's number and the list's count agree;
`service_level=open` keeps the rooms open at the rebuild's now. The dashboard adds the same
local dates and channel or agent as its row.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chats.admin import ChatRoomAdmin
from chats.models import ChatRoom

from .models import ServiceRoomFact, ServiceState
from .service import BREACHED, MET, PENDING

LEVELS = {
    "first_response_met": ("first_response_status", MET),
    "first_response_breached": ("first_response_status", BREACHED),
    "first_response_pending": ("first_response_status", PENDING),
    "resolution_met": ("resolution_status", MET),
    "resolution_breached": ("resolution_status", BREACHED),
    "resolution_pending": ("resolution_status", PENDING),
}


class ServiceLevelFilter(admin.SimpleListFilter):
    title = _("service level (last recalculation)")
    parameter_name = "service_level"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [
            ("first_response_breached", _("First reply late")),
            ("first_response_pending", _("First reply pending")),
            ("resolution_breached", _("Resolved late")),
            ("resolution_pending", _("Resolution pending")),
            ("open", _("Open")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in LEVELS:
            column, status = LEVELS[value]
            facts = ServiceRoomFact.objects.filter(**{column: status})
            return queryset.filter(pk__in=facts.values("room_id"))
        if value == "open":
            now_us = ServiceState.objects.values_list("now_us", flat=True).first()
            if now_us is None:
                return queryset.none()
            facts = ServiceRoomFact.objects.filter(created_us__lte=now_us).filter(
                Q(resolved_us__isnull=True) | Q(resolved_us__gt=now_us)
            )
            return queryset.filter(pk__in=facts.values("room_id"))
        return queryset


class InsightsChatRoomAdmin(ChatRoomAdmin):
    list_filter = [ServiceLevelFilter, *ChatRoomAdmin.list_filter]


admin.site.unregister(ChatRoom)
admin.site.register(ChatRoom, InsightsChatRoomAdmin)
