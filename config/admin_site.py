"""The Wawasan admin site: branded, "View site" leads to the dashboard, Insights first, and the
technical models (tokens, periodic tasks, crontabs, ...) in one "System" group for superusers.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# Apps whose models are plumbing rather than business data.
VIEW_INSIGHTS = "insights.view_insights"
VIEW_OWN_SALES = "insights.view_own_sales"  # accounts.roles: "My sales" only
SYSTEM_APPS = ("authtoken", "django_celery_beat", "django_celery_results", "axes", "sites")
INSIGHTS_APP = "insights"


class WawasanAdminSite(admin.AdminSite):
    site_header = _("Wawasan")
    site_title = _("Wawasan")
    index_title = _("Customer insights and CRM records")

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        # "View site" leads to the dashboard for those who may see it; no link for the others
        # (the site has no public front page: "/" answers 404).
        context = super().each_context(request)
        user = getattr(request, "user", None)
        can_view = user is not None and user.has_perm("insights.view_insights")
        try:
            context["site_url"] = reverse("insights_dashboard") if can_view else None
        except NoReverseMatch:
            context["site_url"] = None
        return context

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # A sales rep who logs in lands on "My sales" (not on the index, unless it asked for
        # another page with ?next=); "Home" still leads to the index and its records.
        response = super().login(request, extra_context)
        user = getattr(request, "user", None)
        if (
            request.method == "POST"
            and isinstance(response, HttpResponseRedirect)
            and response.url in (reverse("admin:index"), resolve_url(settings.LOGIN_REDIRECT_URL))
            and user is not None
            and user.has_perm(VIEW_OWN_SALES)
            and not user.has_perm(VIEW_INSIGHTS)
        ):
            return HttpResponseRedirect(reverse("insights_my_sales"))
        return response

    def autocomplete_view(self, request: HttpRequest):
        return PickerAutocompleteJsonView.as_view(admin_site=self)(request)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        system = [app for app in app_list if app["app_label"] in SYSTEM_APPS]
        business = [app for app in app_list if app["app_label"] not in SYSTEM_APPS]
        insights = next((a for a in business if a["app_label"] == INSIGHTS_APP), None)
        can_see = request.user.has_perm(VIEW_INSIGHTS)
        own_sales = request.user.has_perm(VIEW_OWN_SALES) or can_see
        if own_sales:
            if insights is None:
                insights = {
                    "name": apps.get_app_config(INSIGHTS_APP).verbose_name,
                    "app_label": INSIGHTS_APP,
                    "app_url": reverse("insights_dashboard" if can_see else "insights_my_sales"),
                    "has_module_perms": True,
                    "models": [],
                }
                business.append(insights)
            insights["models"].insert(0, _my_sales_entry())
            if can_see:
                insights["models"].insert(0, _dashboard_entry())
        from imports.jobs import import_kinds_for  # models: not at app loading

        if import_kinds_for(request.user):
            customers = next((a for a in business if a["app_label"] == "customers"), None)
            if customers is not None:
                customers["models"].insert(0, _import_entry())
        if insights is not None:
            business.remove(insights)
            business.insert(0, insights)
        if system and request.user.is_superuser:
            models = [
                {**model, "name": f"{model['name']} ({app['name']})"}
                for app in system
                for model in app["models"]
            ]
            business.append(
                {
                    "name": _("System"),
                    "app_label": "system",
                    "app_url": "",
                    "has_module_perms": True,
                    "models": models,
                }
            )
        return business


class PickerAutocompleteJsonView(AutocompleteJsonView):
    """Autocomplete answers whose contact entries carry a distinguishing detail."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if queryset.model._meta.label == "customers.Contact":
            queryset = queryset.select_related("company")
        return queryset

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, Any]:
        result = super().serialize_result(obj, to_field_name)
        if obj._meta.label == "customers.Contact":
            from accounts.masking import can_see_personal_data
            from customers.picker import contact_picker_label

            masked = not can_see_personal_data(self.request.user)
            result["text"] = contact_picker_label(obj, masked=masked)
        return result


def _dashboard_entry() -> dict[str, Any]:
    return {
        "name": _("Dashboard: growth, sales, RFM and revenue"),
        "object_name": "Dashboard",
        "perms": {"view": True, "add": False, "change": False, "delete": False},
        "admin_url": reverse("insights_dashboard"),
        "add_url": None,
        "view_only": True,
    }


def _my_sales_entry() -> dict[str, Any]:
    return {
        "name": _("My sales"),
        "object_name": "MySales",
        "perms": {"view": True, "add": False, "change": False, "delete": False},
        "admin_url": reverse("insights_my_sales"),
        "add_url": None,
        "view_only": True,
    }


def _import_entry() -> dict[str, Any]:
    return {
        "name": _("Import CSV"),
        "object_name": "Import",
        "perms": {"view": True, "add": False, "change": False, "delete": False},
        "admin_url": reverse("imports_import"),
        "add_url": None,
        "view_only": True,
    }


class WawasanAdminConfig(AdminConfig):
    default_site = "config.admin_site.WawasanAdminSite"
