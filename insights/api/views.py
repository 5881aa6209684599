"""The REST API (CONTRACT.md section 4): thin views over insights.queries and customer360.

Parameters are validated by the serializers of params.py; figures come from the metric engine
only, so the API and the dashboards always agree.
"""

from collections.abc import Iterator
from contextlib import contextmanager
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
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from customers.models import Customer
from insights import customer_value, queries, segment_figures
from insights import figures as registry
from insights.comparison import headline_comparison
from insights.customer_filters import CustomerFilterError

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
from .filters import CustomerFilter, customer_page_rfm
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
    # The section of the figure registry it answers (set by _insights_schema).
    section: ClassVar[str]

    def figures(self, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def get(self, request: Request) -> Response:
        params = self.params_class(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        options = dict(params.validated_data)
        granularity = options.get("granularity") if self.is_trend else None
        data = self.figures(**options)
        entry = registry.section(self.section)
        if entry.compares:
            # The view's own figures() for P′ (a segment or owner filter applies to both),
            # unless the section computes its compared figures alone (compare_compute).
            compute = None if entry.compare_compute else self.figures
            data.update(
                headline_comparison(
                    section_key=self.section, options=options, current=data, compute=compute
                )
            )
        payload = {
            "period": period_json(options["period"], granularity),
            "computed_at": queries.computed_at(),
            **data,
        }
        return Response(self.render(payload))

    def render(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.output_class(payload).data


def _insights_schema(params: type[serializers.Serializer], output: type, section: str):
    """The endpoint's schema; summary and description come from the figure registry."""
    entry = registry.section(section)
    schema = extend_schema_view(
        get=extend_schema(
            summary=str(entry.title),
            description=registry.section_description(section),
            parameters=[params],
            responses={200: output, 400: ERRORS_400},
            tags=["insights"],
        )
    )

    def decorate(view: type) -> type:
        view.section = section  # type: ignore[attr-defined]  # comparison, API root
        return schema(view)

    return decorate


@_insights_schema(p.TrendParams, s.GrowthSerializer, "growth")
class GrowthApi(InsightsApi):
    params_class = p.TrendParams
    output_class = s.GrowthSerializer
    is_trend = True

    def figures(self, *, period, granularity) -> dict[str, Any]:
        return asdict(queries.growth_overview(period=period, granularity=granularity))


@_insights_schema(p.DemographicsParams, s.DemographicsSerializer, "demographics")
class DemographicsApi(InsightsApi):
    params_class = p.DemographicsParams
    output_class = s.DemographicsSerializer

    def figures(self, *, period, scope, limit) -> dict[str, Any]:
        rows = queries.demographics_rows(period=period, scope=scope, limit=limit)
        return {
            name: [{"label": label, "customers": count} for label, _key, count in rows[stored]]
            for stored, _metric, name in queries.DEMOGRAPHIC_LISTS
        }

    def render(self, payload: dict[str, Any]) -> dict[str, Any]:
        # The lists are already plain {label, customers} dicts of str and int: they skip the
        # serializer (a DRF field per cell); the rest goes through it.
        names = [name for _stored, _metric, name in queries.DEMOGRAPHIC_LISTS]
        lists = {name: payload.pop(name) for name in names}
        data = self.output_class({**payload, **dict.fromkeys(names, [])}).data
        data.update(lists)
        return data


@_insights_schema(p.TrendParams, s.SalesSerializer, "sales")
class SalesApi(InsightsApi):
    params_class = p.TrendParams
    output_class = s.SalesSerializer
    is_trend = True

    def figures(self, *, period, granularity) -> dict[str, Any]:
        return asdict(queries.sales_lifecycle(period=period, granularity=granularity))


@_insights_schema(p.PeriodParams, s.LostReasonsSerializer, "lost")
class LostReasonsApi(InsightsApi):
    output_class = s.LostReasonsSerializer

    def figures(self, *, period) -> dict[str, Any]:
        return {"reasons": [asdict(row) for row in queries.lost_reasons(period=period)]}


@_insights_schema(p.TopProductsParams, s.TopProductsSerializer, "products")
class TopProductsApi(InsightsApi):
    params_class = p.TopProductsParams
    output_class = s.TopProductsSerializer

    def figures(self, *, period, order, limit) -> dict[str, Any]:
        rows = queries.top_products(period=period, order=order, limit=limit)
        return {"products": [asdict(row) for row in rows]}


@contextmanager
def _segment_errors() -> Iterator[None]:
    """A saved segment whose filter no longer holds is a 400 naming segment_id, never dropped."""
    try:
        yield
    except CustomerFilterError as error:
        raise ValidationError({"segment_id": [error.message]}) from None


@_insights_schema(p.SegmentPeriodParams, s.RfmSerializer, "rfm")
class RfmApi(InsightsApi):
    params_class = p.SegmentPeriodParams
    output_class = s.RfmSerializer

    def figures(self, *, period, segment=None) -> dict[str, Any]:
        if segment is not None:
            with _segment_errors():
                rows = segment_figures.segment_rfm(segment=segment, period=period)
        else:
            rows = queries.rfm_groups(period=period)
        return {"segments": [asdict(row) for row in rows]}


@_insights_schema(p.SegmentPeriodParams, s.RevenueSerializer, "revenue")
class RevenueApi(InsightsApi):
    params_class = p.SegmentPeriodParams
    output_class = s.RevenueSerializer

    def figures(self, *, period, segment=None) -> dict[str, Any]:
        if segment is not None:
            with _segment_errors():
                kpis = segment_figures.segment_revenue_kpis(segment=segment, period=period)
            return asdict(kpis)
        return asdict(queries.revenue_kpis(period=period))


@_insights_schema(
    p.CustomerValueParams,
    s.CustomerValueSerializer,
    "value",
)
class CustomerValueApi(InsightsApi):
    params_class = p.CustomerValueParams
    output_class = s.CustomerValueSerializer

    def figures(self, *, period, horizon, model) -> dict[str, Any]:
        data = dict(customer_value.customer_value(period=period, horizon=horizon, model=model))
        for internal in ("message", "reason", "p_alive_histogram_repeat"):
            data.pop(internal, None)
        for name in ("predicted_revenue", "revenue_at_risk"):
            data[name] = customer_value.money(data.pop(f"{name}_cents"))
        return data


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
        # Filtered bare; the columns' joins are added after (customer_list_queryset), so the
        # exact count of a filtered list reads an index alone (pagination._exact).
        return Customer.objects.all()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.accepted_renderer.format != "csv":
            return self.page_response(request)
        return customer_csv_response(
            queryset=customer_list_queryset(self.filter_queryset(self.get_queryset())),
            user=request.user,
            params={key: values[-1] for key, values in request.query_params.lists()},
            endpoint=request.path,
        )

    def page_response(self, request: Request) -> Response:
        filtered = self.filter_queryset(self.get_queryset())
        self.count_queryset = filtered  # counted without the columns' joins
        page = self.paginate_queryset(customer_list_queryset(filtered))
        # The RFM group column: one read for the page (no query per row).
        self.rfm_groups = customer_page_rfm(params=request.query_params, customers=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "rfm_groups": self.rfm_groups}

    rfm_groups: ClassVar[dict[int, str]] = {}
    count_queryset = None


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
