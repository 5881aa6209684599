from django.contrib import admin, messages
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.db.models.functions import Trim
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.admin_scoping import owner_scoped_via
from accounts.masking import can_see_personal_data, mask_text
from customers.admin import IdentitySearchMixin
from customers.admin_snapshot import RecordsToFixAdmin

from .durations import duration_human, whole_seconds
from .holidays_load import national_holidays_load
from .models import (
    ChatContact,
    ChatContactToFix,
    ChatRoom,
    Holiday,
    ServiceTarget,
    SurveyResponse,
)

# The label of rooms without an agent in the service figures (METRICS.md S).
UNASSIGNED = "Unassigned"
AGENTS_CACHE_KEY = "chats:admin:agents"
AGENTS_TTL = 600


@admin.register(ChatContact)
class ChatContactAdmin(IdentitySearchMixin, admin.ModelAdmin):
    list_display = ["__str__", "channel", "email", "phone", "created_at", "external_id"]
    list_filter = ["channel", "created_at"]
    search_fields = ["name", "email", "phone", "external_id"]
    readonly_fields = ["email_key", "phone_key"]


class AgentFilter(admin.SimpleListFilter):
    """The agent as written (Budi and budi differ); `Unassigned` is a blank agent.

    The dashboard's agent rows link here with ?agent_label=<label>.
    """

    title = _("agent")
    parameter_name = "agent_label"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        # DISTINCT over every room is a full scan (5,000,000 rooms at a million people):
        # the list of agents is kept for AGENTS_TTL seconds; any agent still filters by URL.
        agents = cache.get(AGENTS_CACHE_KEY)
        if agents is None:
            agents = list(
                ChatRoom.objects.exclude(agent="")
                .order_by("agent")
                .values_list("agent", flat=True)
                .distinct()[:100]
            )
            cache.set(AGENTS_CACHE_KEY, agents, AGENTS_TTL)
        return [(UNASSIGNED, _("Unassigned")), *((a, a) for a in agents if a.strip())]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value == UNASSIGNED:
            # TRIM as in the rollup (insights/service.py): blank or spaces only.
            blank = queryset.annotate(_agent_trim=Trim("agent"))
            return blank.filter(Q(_agent_trim="") | Q(agent=UNASSIGNED))
        return queryset.filter(agent=value)


class ResolvedFilter(admin.SimpleListFilter):
    title = _("resolved")
    parameter_name = "resolved"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        return [("yes", _("Resolved")), ("no", _("Not resolved"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(resolved_at__isnull=self.value() == "no")
        return queryset


@admin.register(ChatRoom)
class ChatRoomAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "chat_contact",
        "channel",
        "created_at",
        "first_response_time",
        "resolution_time",
        "agent",
        "csat_score",
    ]
    # The dashboard drills down with ?created_at__date__gte=&created_at__date__lte= (local
    # dates, like the rollup's day) plus chat_contact__channel or agent_label.
    list_filter = [
        "chat_contact__channel",
        AgentFilter,
        ResolvedFilter,
        "csat_score",
        "created_at",
    ]
    list_select_related = ["chat_contact"]
    search_fields = ["external_id", "agent", "chat_contact__name", "chat_contact__phone"]
    autocomplete_fields = ["chat_contact"]

    @admin.display(description=_("channel"), ordering="chat_contact__channel")
    def channel(self, room: ChatRoom) -> str:
        return room.chat_contact.channel

    @admin.display(description=_("first response time"))
    def first_response_time(self, room: ChatRoom) -> str:
        return duration_human(whole_seconds(room.created_at, room.first_response_at))

    @admin.display(description=_("resolution time"))
    def resolution_time(self, room: ChatRoom) -> str:
        return duration_human(whole_seconds(room.created_at, room.resolved_at))


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    """Comments are personal data: masked, unsearchable and read-only without the permission.

    Owner scoping as for contacts: a user without accounts.view_all_records sees the answers
    given through their own CRM contacts, and those given through chat contacts (which, like
    chat rooms, have no owner).
    """

    list_display = ["__str__", "kind", "score", "record", "created_at"]
    list_filter = ["kind", "score", "created_at"]
    list_select_related = ["contact", "chat_contact"]
    search_fields = ["external_id", "contact__external_id", "chat_contact__external_id"]
    autocomplete_fields = ["contact", "chat_contact"]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return owner_scoped_via(super().get_queryset(request), request.user, "contact")

    def get_search_fields(self, request: HttpRequest):
        fields = list(super().get_search_fields(request))
        return [*fields, "comment"] if can_see_personal_data(request.user) else fields

    def get_exclude(self, request: HttpRequest, obj: SurveyResponse | None = None):
        excluded = list(super().get_exclude(request, obj) or [])
        return excluded if can_see_personal_data(request.user) else [*excluded, "comment"]

    def get_readonly_fields(self, request: HttpRequest, obj: SurveyResponse | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if can_see_personal_data(request.user):
            return fields
        return [*fields, _comment_column(masked=True)]

    def get_list_display(self, request: HttpRequest):
        # A callable built per request: the ModelAdmin instance is shared between requests.
        masked = not can_see_personal_data(request.user)
        return [*self.list_display[:3], _comment_column(masked=masked), *self.list_display[3:]]

    @admin.display(description=_("record"))
    def record(self, response: SurveyResponse) -> str:
        return str(response.contact or response.chat_contact)


def _comment_column(*, masked: bool):
    @admin.display(description=_("comment"))
    def comment(response: SurveyResponse) -> str:
        return mask_text(response.comment) if masked else response.comment

    return comment


@admin.register(ChatContactToFix)
class ChatContactToFixAdmin(RecordsToFixAdmin):
    """Moved from customers/admin_snapshot.py with its proxy model (customers imports no chats)."""

    list_display = ["id", "__str__", "channel", "email", "phone", "problems", "customer", "fix"]
    search_fields = ["name", "email", "phone", "external_id"]
    edit_url_name = "chats_chatcontact_change"
    # Its own permission: seeing chat contacts is not seeing every record's key problems.
    view_permission = "chats.view_chatcontacttofix"


@admin.register(ServiceTarget)
class ServiceTargetAdmin(admin.ModelAdmin):
    """Service promises per channel (METRICS.md §L); the blank channel is every other one."""

    list_display = ["__str__", "first_response", "resolution", "clock"]
    list_filter = ["clock"]
    search_fields = ["channel"]

    @admin.display(description=_("first response target"), ordering="first_response_s")
    def first_response(self, target: ServiceTarget) -> str:
        return duration_human(target.first_response_s) or "—"

    @admin.display(description=_("resolution target"), ordering="resolution_s")
    def resolution(self, target: ServiceTarget) -> str:
        return duration_human(target.resolution_s) or "—"


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """Days without business hours; the national holidays of this year and the next load in one
    step (chats.holidays_load)."""

    list_display = ["date", "name"]
    search_fields = ["name"]
    date_hierarchy = "date"

    def get_urls(self):
        load = self.admin_site.admin_view(require_POST(self.load_national))
        return [
            path("load-national/", load, name="chats_holiday_load_national"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        year = timezone.localdate().year
        context = {
            "can_load_national": self.has_add_permission(request)
            and self.has_change_permission(request),
            "this_year": year,
            "next_year": year + 1,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def load_national(self, request: HttpRequest) -> HttpResponseRedirect:
        target = reverse("admin:chats_holiday_changelist")
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            self.message_user(request, gettext("You may not add holidays."), messages.ERROR)
            return HttpResponseRedirect(target)
        year = timezone.localdate().year
        loaded = national_holidays_load(years=[year, year + 1])
        self.message_user(
            request,
            gettext("National holidays of %(first)s and %(second)s: %(created)s added, "
                    "%(updated)s renamed.") % {"first": year, "second": year + 1,
                                               "created": loaded.created,
                                               "updated": loaded.updated},
            messages.SUCCESS,
        )  # fmt: skip
        return HttpResponseRedirect(target)
