from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

from . import lifecycle, root, segments, views
from .forecast import ForecastApi
from .health import HealthApi
from .owners import OwnersApi
from .service import ServiceApi

app_name = "api"


@csrf_exempt  # a POST/DELETE to an unknown path gets the JSON 404, not Django's CSRF page
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Unknown paths under the API answer JSON too (Django's own 404 page is HTML)."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", root.ApiRoot.as_view(), name="root"),
    path("insights/growth/", views.GrowthApi.as_view(), name="growth"),
    path("insights/demographics/", views.DemographicsApi.as_view(), name="demographics"),
    path("insights/sales/", views.SalesApi.as_view(), name="sales"),
    path("insights/lost-reasons/", views.LostReasonsApi.as_view(), name="lost-reasons"),
    path("insights/top-products/", views.TopProductsApi.as_view(), name="top-products"),
    path("insights/rfm/", views.RfmApi.as_view(), name="rfm"),
    path("insights/revenue/", views.RevenueApi.as_view(), name="revenue"),
    path("insights/customer-value/", views.CustomerValueApi.as_view(), name="customer-value"),
    path("insights/lifecycle/", lifecycle.LifecycleApi.as_view(), name="lifecycle"),
    path("insights/retention/", lifecycle.RetentionApi.as_view(), name="retention"),
    path("insights/service/", ServiceApi.as_view(), name="service"),
    path("insights/forecast/", ForecastApi.as_view(), name="forecast"),
    path("insights/health/", HealthApi.as_view(), name="health"),
    path("insights/owners/", OwnersApi.as_view(), name="owners"),
    path("customers/", views.CustomerListApi.as_view(), name="customer-list"),
    path("customers/<int:pk>/", views.CustomerDetailApi.as_view(), name="customer-detail"),
    path("segments/", segments.SegmentListApi.as_view(), name="segment-list"),
    path("segments/<int:pk>/", segments.SegmentDetailApi.as_view(), name="segment-detail"),
    path("schema/", views.SchemaApi.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path(
        "schema/swagger/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema"),
        name="swagger",
    ),
    path("schema/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    re_path(r"^(?P<path>.*)$", not_found),
]
