"""GET /api/v1/: what the API offers, with a link and a one-line description per endpoint.

The list is the URLconf's (insights.api.urls): every named route without a path parameter.
An insights endpoint is described by its section of the figure registry; the others by
OTHER_DESCRIPTIONS. A route with neither fails the root's test, so none is left out.
"""

from typing import Any

from django.urls import get_resolver
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from insights import figures

OTHER_DESCRIPTIONS = {
    "customer-list": "Deduplicated customers: filter, search, ?format=csv.",
    "segment-list": "Saved segments (a customer filter with a name): list, create; {id}/ edits.",
    "schema": "The OpenAPI 3 schema of this API.",
    "swagger": "The schema as an interactive Swagger UI page.",
    "redoc": "The schema as a ReDoc reference page.",
}
# Names on the root differ from URL names where the list is the resource.
ROOT_NAMES = {"customer-list": "customers", "segment-list": "segments"}


def _routes() -> list[tuple[str, Any]]:
    """(url name, view class) of every named route without a path parameter, in URLconf order."""
    _prefix, resolver = get_resolver().namespace_dict["api"]
    routes = []
    for pattern in resolver.url_patterns:
        name = getattr(pattern, "name", None)
        if not name or name == "root" or "<" in str(pattern.pattern):
            continue
        routes.append((name, getattr(pattern.callback, "view_class", None)))
    return routes


def _description(url_name: str, view: Any) -> str:
    section = getattr(view, "section", None)
    if section is not None:
        entry = figures.section(section)
        return f"{entry.title}: {entry.summary}"
    return OTHER_DESCRIPTIONS[url_name]


def api_endpoints(request: Request | None = None) -> list[dict[str, Any]]:
    """Every endpoint of the API root: name, absolute URL and what it answers."""
    return [
        {
            "name": ROOT_NAMES.get(url_name, url_name),
            "url": reverse(f"api:{url_name}", request=request),
            "description": _description(url_name, view),
        }
        for url_name, view in _routes()
    ]


@extend_schema(exclude=True)
class ApiRoot(APIView):
    """The API's endpoints; the same permission as every other endpoint."""

    name = "Wawasan API"  # the browsable page's title (DRF would say "Api Root")

    def get(self, request: Request) -> Response:
        return Response({"endpoints": api_endpoints(request)})
