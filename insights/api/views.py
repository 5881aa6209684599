"""The REST API (CONTRACT.md section 4): thin views over insights.queries and customer360.

Parameters are validated by the serializers of params.py; figures come from the metric engine
only, so the API and the dashboards always agree.
"""

from dataclasses import asdict
from typing import Any, ClassVar

from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from insights import queries

from . import params as p
from . import serializers as s
from .customer360 import (
    MAX_ID,
    customer_360,
    customer_list_queryset,
    customer_survivor_id,
    period_json,
)
from .export import CSVRenderer, customer_csv_response
from .filters import CustomerFilter
from .pagination import EstimatedCountPagination

ERRORS_400 = OpenApiResponse(
    s.ErrorsSerializer,
    description='A parameter is wrong: `{"errors": {"<parameter>": ["<what is wrong>"]}}`.',
)


class InsightsApi(APIView):
    """Validate the parameters, ask the metric engine, add `period` and `computed_at`."""

    params_class: ClassVar[type[p.PeriodParams]] = p.PeriodParams
    output_class: ClassVar[type[serializers.Serializer]]
    is_trend: ClassVar[bool] = False

    def figures(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        params = self.params_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        options = dict(params.validated_data)
        granularity = options.get("granularity") if self.is_trend else None
        payload = {
            "period": period_json(options["period"], granularity),
            "computed_at": queries.computed_at(),
            **self.figures(**options),
        }
        return Response(self.render(payload))

    def render(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.output_class(payload).data


def _insights_schema(params: type[serializers.Serializer], output: type, summary: str):
    return extend_schema_view(
        get=extend_schema(
            summary=summary,
            parameters=[params],
            responses={200: output, 400: ERRORS_400},
            tags=["insights"],
        )
    )


@_insights_schema(p.TrendParams, s.GrowthSerializer, "Customer growth overview (METRICS.md 4.A)")
class GrowthApi(InsightsApi):
    params_class = p.TrendParams
    output_class = s.GrowthSerializer
    is_trend = True

    def figures(self, *, period, granularity) -> dict[str, Any]:
        return asdict(queries.growth_overview(period=period, granularity=granularity))


@_insights_schema(p.DemographicsParams, s.DemographicsSerializer, "Demographics (4.B)")
class DemographicsApi(InsightsApi):
    params_class = p.DemographicsParams
    output_class = s.DemographicsSerializer

    def figures(self, *, period, scope) -> dict[str, Any]:
        rows = queries.demographics_rows(period=period, scope=scope)
        return {
            name: [{"label": label, "customers": count} for label, _key, count in rows[stored]]
            for name, stored in (("by_source", "src"), ("by_company", "co"))
        }

    def render(self, payload: dict[str, Any]) -> dict[str, Any]:
        # by_company lists every company (25,000 at a million customers): dataclasses.asdict
        # and a DRF field per cell cost ~300 ms there, so the two lists, already plain
        # {label, customers} dicts of str and int, skip the serializer; the rest goes through it.
        lists = {name: payload.pop(name) for name in ("by_source", "by_company")}
        data = self.output_class({**payload, "by_source": [], "by_company": []}).data
        data.update(lists)
        return data


@_insights_schema(p.TrendParams, s.SalesSerializer, "Sales lifecycle (METRICS.md 4.C)")
class SalesApi(InsightsApi):
    params_class = p.TrendParams
    output_class = s.SalesSerializer
    is_trend = True

    def figures(self, *, period, granularity) -> dict[str, Any]:
        return asdict(queries.sales_lifecycle(period=period, granularity=granularity))


@_insights_schema(p.PeriodParams, s.LostReasonsSerializer, "Lost reasons (METRICS.md 4.E)")
class LostReasonsApi(InsightsApi):
    output_class = s.LostReasonsSerializer

    def figures(self, *, period) -> dict[str, Any]:
        return {"reasons": [asdict(row) for row in queries.lost_reasons(period=period)]}


@_insights_schema(p.TopProductsParams, s.TopProductsSerializer, "Top products (4.F)")
class TopProductsApi(InsightsApi):
    params_class = p.TopProductsParams
    output_class = s.TopProductsSerializer

    def figures(self, *, period, order, limit) -> dict[str, Any]:
        rows = queries.top_products(period=period, order=order, limit=limit)
        return {"products": [asdict(row) for row in rows]}


@_insights_schema(p.PeriodParams, s.RfmSerializer, "RFM segments (METRICS.md 4.R)")
class RfmApi(InsightsApi):
    output_class = s.RfmSerializer

    def figures(self, *, period) -> dict[str, Any]:
        return {"segments": [asdict(row) for row in queries.rfm_segments(period=period)]}


@_insights_schema(p.PeriodParams, s.RevenueSerializer, "Revenue KPIs (METRICS.md 4.K)")
class RevenueApi(InsightsApi):
    output_class = s.RevenueSerializer

    def figures(self, *, period) -> dict[str, Any]:
        return asdict(queries.revenue_kpis(period=period))


class JsonErrorsMixin:
    """Errors are JSON whatever the success format (CSV, OpenAPI YAML): clients can parse them."""

    def finalize_response(self, request, response, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and not isinstance(renderer, JSONRenderer):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaApi(JsonErrorsMixin, SpectacularAPIView):
    pass


# --- Customers --------------------------------------------------------------------------------
class CustomerPagination(EstimatedCountPagination):
    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "Customers per page (default 50, at most 500)."
    max_page_size = 500

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        response = super().get_paginated_response_schema(schema)
        descriptions = {
            "count": (
                "How many customers match the filters (all pages); the database's estimate "
                "when count_is_estimate is true."
            ),
            "next": "URL of the next page, null on the last.",
            "previous": "URL of the previous page, null on the first.",
            "results": "This page's customers, by id.",
        }
        for name, text in descriptions.items():
            response["properties"][name]["description"] = text
        return response


FORMAT_PARAM = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description=(
        "`csv` streams every filtered row (no pagination) as CSV with a header row; cells "
        "starting with = + - @ tab or CR get a leading apostrophe. Each export is recorded."
    ),
)


@extend_schema_view(
    get=extend_schema(
        summary="Deduplicated customers (filterable, searchable, exportable as CSV)",
        parameters=[FORMAT_PARAM],
        responses={
            (200, "application/json"): s.CustomerSerializer(many=True),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="Every filtered row, with a header row."
            ),
            400: ERRORS_400,
            404: OpenApiResponse(description="No such page."),
        },
        tags=["customers"],
    )
)
class CustomerListApi(JsonErrorsMixin, ListAPIView):
    serializer_class = s.CustomerSerializer
    filterset_class = CustomerFilter
    pagination_class = CustomerPagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        return customer_list_queryset()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.accepted_renderer.format != "csv":
            return super().list(request, *args, **kwargs)
        return customer_csv_response(
            queryset=self.filter_queryset(self.get_queryset()),
            user=request.user,
            params={key: values[-1] for key, values in request.query_params.lists()},
            endpoint=request.path,
        )


@extend_schema_view(
    get=extend_schema(
        summary="One customer, 360°: records, deals with items, chat rooms, RFM scores",
        parameters=[
            OpenApiParameter(
                "id",
                OpenApiTypes.INT,
                OpenApiParameter.PATH,
                description="The customer id (a merged-away id redirects to the survivor).",
            ),
            p.PeriodParams,
        ],
        responses={
            200: s.CustomerDetailSerializer,
            302: OpenApiResponse(
                s.MergedCustomerSerializer,
                description="The id was merged into another customer; Location is its URL.",
            ),
            400: ERRORS_400,
            404: OpenApiResponse(description="No such customer."),
        },
        tags=["customers"],
    )
)
class CustomerDetailApi(APIView):
    def get(self, request: Request, pk: int) -> Response:
        params = p.PeriodParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        customer = customer_360(customer_id=pk, period=params.validated_data["period"])
        if customer is not None:
            serializer = s.CustomerDetailSerializer(customer, context={"request": request})
            return Response(serializer.data)
        survivor = customer_survivor_id(customer_id=pk) if pk <= MAX_ID else None
        if survivor is None:
            return Response({"detail": "No such customer."}, status=404)
        location = reverse("api:customer-detail", kwargs={"pk": survivor}, request=request)
        if request.META.get("QUERY_STRING"):
            location += "?" + request.META["QUERY_STRING"]
        body = {"merged_into": survivor, "detail": f"Customer {pk} was merged into {survivor}."}
        return Response(body, status=302, headers={"Location": location})
