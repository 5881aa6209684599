"""Saved segments over the API: GET/POST segments/, GET/PATCH/DELETE segments/{id}/.

A user sees their own segments and shared ones and changes only their own. Filters are the
customers/ list's parameters, validated by insights.customer_filters; each segment shows its
current count, or the reason its saved filter no longer holds (never silently dropped).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from insights.customer_filters import (
    CustomerFilterError,
    customer_filters_clean,
    segment_customers,
    segment_name_taken,
    segments_visible,
)
from insights.models import Segment

from .views import ERRORS_400

NOT_FOUND = OpenApiResponse(description="No such segment that you can see.")
NOT_YOURS = OpenApiResponse(description="A shared segment of someone else: read-only for you.")


class SavedSegmentSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, help_text="Its owner.")
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text=(
            "The customers/ filters it stands for, e.g. "
            '{"product": "SKU-1", "start": "2026-10-01", "end": "2026-10-31", "city": "Jakarta"}.'
        ),
    )
    count = serializers.SerializerMethodField(
        help_text="Customers matching its filters now; null when a saved filter is invalid."
    )
    error = serializers.SerializerMethodField(
        help_text="Why a saved filter no longer holds (e.g. its product was deleted), else null."
    )

    class Meta:
        model = Segment
        fields = ["id", "name", "owner", "shared", "filters", "count", "error", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = ["id", "owner", "count", "error", "created_at", "updated_at"]
        extra_kwargs = {
            "id": {"help_text": "The segment id (the `segment_id` filter value)."},
            "created_at": {"help_text": "When it was saved."},
            "updated_at": {"help_text": "When it last changed."},
            "name": {"help_text": "A name for people."},
            "shared": {"help_text": "true: every user with insights access sees it."},
        }

    def validate_name(self, value: str) -> str:
        request = self.context.get("request")
        owner = self.instance.owner if self.instance else getattr(request, "user", None)
        exclude = self.instance.pk if self.instance else None
        if owner is not None and segment_name_taken(owner=owner, name=value, exclude_pk=exclude):
            raise serializers.ValidationError("You already have a segment of this name.")
        return value.strip()

    def validate_filters(self, value: dict[str, str]) -> dict[str, str]:
        try:
            return customer_filters_clean(value)
        except CustomerFilterError as error:
            raise serializers.ValidationError(str(error)) from None

    def _counted(self, obj: Segment) -> tuple[int | None, str | None]:
        cache = self.context.setdefault("_counts", {})
        if obj.pk not in cache:
            try:
                cache[obj.pk] = (segment_customers(segment=obj).count(), None)
            except CustomerFilterError as error:
                cache[obj.pk] = (None, error.message)
        return cache[obj.pk]

    def get_count(self, obj: Segment) -> int | None:
        return self._counted(obj)[0]

    def get_error(self, obj: Segment) -> str | None:
        return self._counted(obj)[1]


class SegmentPagination(PageNumberPagination):
    """Pages of segments by name: only the page's segments are counted (issue 27 item 13)."""

    page_size = 50
    page_size_query_param = "page_size"
    page_size_query_description = "Segments per page (default 50, at most 200)."
    max_page_size = 200

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        descriptions = {
            "count": "How many segments you can see (all pages).",
            "next": "URL of the next page, null on the last.",
            "previous": "URL of the previous page, null on the first.",
            "results": "This page's segments by name, each with its count.",
        }
        for name, text in descriptions.items():
            response["properties"][name]["description"] = text
        return response


@extend_schema_view(
    get=extend_schema(
        summary="Saved segments you can see, a page at a time, with counts",
        tags=["segments"],
        operation_id="segments_list",
        responses={
            200: SavedSegmentSerializer(many=True),
            404: OpenApiResponse(description="No such page."),
        },
    ),
    post=extend_schema(
        summary="Save a segment (you own it)",
        tags=["segments"],
        operation_id="segments_create",
        request=SavedSegmentSerializer,
        responses={
            201: SavedSegmentSerializer,
            400: ERRORS_400,
            413: OpenApiResponse(description="The body is too large: {errors: {body: [...]}}."),
        },
    ),
)
class SegmentListApi(APIView):
    serializer_class = SavedSegmentSerializer
    pagination_class = SegmentPagination

    def get(self, request: Request) -> Response:
        segments = segments_visible(request.user).select_related("owner").order_by("name", "id")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(segments, request, view=self)
        return paginator.get_paginated_response(SavedSegmentSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        serializer = SavedSegmentSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        segment = serializer.save(owner=request.user)
        return Response(SavedSegmentSerializer(segment).data, status=201)


@extend_schema_view(
    get=extend_schema(
        summary="One saved segment with its count",
        tags=["segments"],
        operation_id="segments_read",
        responses={200: SavedSegmentSerializer, 404: NOT_FOUND},
    ),
    patch=extend_schema(
        summary="Change your segment",
        tags=["segments"],
        request=SavedSegmentSerializer,
        responses={200: SavedSegmentSerializer, 400: ERRORS_400, 403: NOT_YOURS, 404: NOT_FOUND},
    ),
    delete=extend_schema(
        summary="Delete your segment",
        tags=["segments"],
        responses={204: None, 403: NOT_YOURS, 404: NOT_FOUND},
    ),
)
class SegmentDetailApi(APIView):
    serializer_class = SavedSegmentSerializer

    def segment(self, request: Request, pk: int, *, edit: bool = False) -> Segment:
        segment = segments_visible(request.user).select_related("owner").filter(pk=pk).first()
        if segment is None:
            raise NotFound("No such segment.")
        if edit and segment.owner_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied("Only its owner can change a segment.")
        return segment

    def get(self, request: Request, pk: int) -> Response:
        return Response(SavedSegmentSerializer(self.segment(request, pk)).data)

    def patch(self, request: Request, pk: int) -> Response:
        serializer = SavedSegmentSerializer(
            self.segment(request, pk, edit=True),
            data=request.data,
            partial=True,
            context={"request": request},
        )
        serializer.is_valid(raise_exception=True)
        return Response(SavedSegmentSerializer(serializer.save()).data)

    def delete(self, request: Request, pk: int) -> Response:
        self.segment(request, pk, edit=True).delete()
        return Response(status=204)
