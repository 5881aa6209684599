from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers ask for /favicon.ico on pages that name no icon (the API's JSON, say).
    path("favicon.ico", RedirectView.as_view(url=static("wawasan/favicon.svg"), permanent=True)),
    # Before admin.site.urls, whose catch-all would otherwise answer these paths with a 404.
    path("admin/insights/", include("insights.dashboards.urls")),
    path("admin/import/", include("imports.urls")),
    path("admin/customers/customer/", include("privacy.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("insights.api.urls")),
]
