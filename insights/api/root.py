"""GET /api/v1/: what the API offers, with a link and a one-line description per endpoint."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from insights import figures

# (name, url name, description); insights descriptions come from the figure registry.
INSIGHTS_ENDPOINTS = (
    ("growth", "api:growth", "growth"),
    ("demographics", "api:demographics", "demographics"),
    ("sales", "api:sales", "sales"),
    ("lost-reasons", "api:lost-reasons", "lost"),
    ("top-products", "api:top-products", "products"),
    ("rfm", "api:rfm", "rfm"),
    ("revenue", "api:revenue", "revenue"),
    ("forecast", "api:forecast", "forecast"),
    ("health", "api:health", "health"),
)
OTHER_ENDPOINTS = (
    ("customers", "api:customer-list", "Deduplicated customers: filter, search, ?format=csv."),
    ("schema", "api:schema", "The OpenAPI 3 schema of this API."),
    ("swagger", "api:swagger", "The schema as an interactive Swagger UI page."),
    ("redoc", "api:redoc", "The schema as a ReDoc reference page."),
)


def api_endpoints(request: Request | None = None) -> list[dict[str, Any]]:
    """Every endpoint of the API root: name, absolute URL and what it answers."""
    rows = [
        {
            "name": name,
            "url": reverse(url_name, request=request),
            "description": str(figures.section(section).title),
        }
        for name, url_name, section in INSIGHTS_ENDPOINTS
    ]
    rows += [
        {"name": name, "url": reverse(url_name, request=request), "description": description}
        for name, url_name, description in OTHER_ENDPOINTS
    ]
    return rows


@extend_schema(exclude=True)
class ApiRootApi(APIView):
    """The API's endpoints; the same permission as every other endpoint."""

    def get(self, request: Request) -> Response:
        return Response({"endpoints": api_endpoints(request)})
