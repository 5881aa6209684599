from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin.site.urls, whose catch-all would otherwise answer these paths with a 404.
    path("admin/insights/", include("insights.dashboard_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("insights.api.urls")),
]
