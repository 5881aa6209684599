"""The project's URLs plus bare views that measure the fixed cost of a request (bench only).

Mounted by bench/settings.py, never by config/urls.py:
- bench/django/: a plain Django view returning a constant (middleware + URL resolving).
- bench/drf-open/: a DRF APIView returning a constant with no authentication, permission or
  throttle (adds DRF's request wrapping, content negotiation and JSON rendering).
- bench/drf/: the same view with the API's defaults (token or session authentication,
  insights.view_insights, user throttle): what every API request pays before its own work.
- bench/drf-unthrottled/: the same without the throttle (the difference is its bookkeeping).
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns

CONSTANT = {"ok": True}


def django_constant(request: HttpRequest) -> JsonResponse:
    return JsonResponse(CONSTANT)


class OpenConstantApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request: Request) -> Response:
        return Response(CONSTANT)


class ConstantApi(APIView):
    def get(self, request: Request) -> Response:
        return Response(CONSTANT)


class UnthrottledConstantApi(ConstantApi):
    throttle_classes: list = []


urlpatterns = [
    path("bench/django/", django_constant),
    path("bench/drf-open/", OpenConstantApi.as_view()),
    path("bench/drf/", ConstantApi.as_view()),
    path("bench/drf-unthrottled/", UnthrottledConstantApi.as_view()),
    *project_urlpatterns,
]
