"""CSV export of the customers list: streamed row by row, so a million rows never sit in memory."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.renderers import BaseRenderer

from accounts.masking import can_see_personal_data, mask_email, mask_name, mask_phone
from audit.models import ExportRecord
from audit.services import export_record_create, export_record_finish
from common.csv_cells import csv_cell

CUSTOMER_COLUMNS: tuple[tuple[str, str], ...] = (
    # (header, values() path)
    ("id", "id"),
    ("display_name", "display_name"),
    ("primary_email", "primary_email"),
    ("primary_phone", "primary_phone"),
    ("source", "source"),
    ("company_id", "company_id"),
    ("company_name", "company__name"),
    ("first_seen_at", "first_seen_at"),
    ("record_count", "record_count"),
    ("lifetime_revenue", "stats__lifetime_revenue"),
)
# Columns holding personal data, masked for users without accounts.view_personal_data.
MASKED_COLUMNS = {
    "display_name": mask_name,
    "primary_email": mask_email,
    "primary_phone": mask_phone,
}
CHUNK_SIZE = 2000


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through DRF's content negotiation; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return data if isinstance(data, bytes | str) else b""


class _Echo:
    """A file-like object whose write returns the line, for csv.writer inside a generator."""

    def write(self, value: str) -> str:
        return value


def customer_csv_lines(*, queryset: QuerySet, masked: bool = False) -> Iterator[str]:
    """Header line, then one line per customer in queryset order, read in chunks.

    masked: names, emails and phones go out masked (the reader lacks view_personal_data).
    """
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in CUSTOMER_COLUMNS])
    rows: Iterable[tuple] = queryset.values_list(*(path for _, path in CUSTOMER_COLUMNS)).iterator(
        chunk_size=CHUNK_SIZE
    )
    masks = [MASKED_COLUMNS.get(header) if masked else None for header, _ in CUSTOMER_COLUMNS]
    for row in rows:
        yield writer.writerow(
            [
                csv_cell(mask(value) if mask else value)
                for mask, value in zip(masks, row, strict=True)
            ]
        )


def _recorded(lines: Iterator[str], *, record: ExportRecord) -> Iterator[str]:
    """Pass the lines through, then record how many data rows left and whether all did.

    A stream can stop part-way (an error on a row, the client gone): the record then says
    how far it got instead of claiming the count taken up front.
    """
    sent = -1  # the header line is not a row
    complete = False
    try:
        for line in lines:
            yield line
            sent += 1
        complete = True
    finally:
        export_record_finish(record=record, rows_sent=max(sent, 0), complete=complete)


def customer_csv_response(
    *, queryset: QuerySet, user: Any, params: dict[str, Any], endpoint: str
) -> StreamingHttpResponse:
    """Stream the filtered customers as CSV and record the export (one COUNT query up front)."""
    row_count = queryset.count()
    record = export_record_create(
        user=user, endpoint=endpoint, params=params, row_count=row_count, format="csv"
    )
    lines = customer_csv_lines(queryset=queryset, masked=not can_see_personal_data(user))
    response = StreamingHttpResponse(
        _recorded(lines, record=record),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
