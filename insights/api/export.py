"""CSV export of the customers list: streamed row by row, so a million rows never sit in memory."""

import csv
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
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
    ("country", "country"),
    ("city", "city"),
    ("last_purchase", "stats__last_purchase_day"),
    ("p_alive", "value__p_alive"),
    ("predicted_clv", "value__predicted_clv"),
)


def _last_purchase(value: Any) -> Any:
    return date.fromordinal(value).isoformat() if value else ""


def _probability(value: Any) -> Any:
    return f"{value:.4f}" if value is not None else ""


# Cells that need writing as a reader expects them (an ordinal day as a date).
CONVERTED_COLUMNS: dict[str, Callable[[Any], Any]] = {
    "last_purchase": _last_purchase,
    "p_alive": _probability,
}


@dataclass(frozen=True)
class CsvStyle:
    """How a spreadsheet of the reader's locale splits a line and reads a decimal: Excel in
    Indonesian expects `;` between cells and a decimal comma (43550000,00)."""

    delimiter: str = ","
    decimal_comma: bool = False


API_STYLE = CsvStyle()
STYLES = {"id": CsvStyle(delimiter=";", decimal_comma=True)}


def csv_style(language: str | None) -> CsvStyle:
    return STYLES.get((language or "en").split("-")[0].lower(), API_STYLE)


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


def customer_csv_lines(
    *, queryset: QuerySet, masked: bool = False, style: CsvStyle = API_STYLE
) -> Iterator[str]:
    """Header line, then one line per customer in queryset order, read in chunks.

    masked: names, emails and phones go out masked (the reader lacks view_personal_data).
    style: the API's plain CSV, or the reader's spreadsheet locale (the admin's export).
    """
    writer = csv.writer(_Echo(), delimiter=style.delimiter)
    yield writer.writerow([header for header, _ in CUSTOMER_COLUMNS])
    rows: Iterable[tuple] = queryset.values_list(*(path for _, path in CUSTOMER_COLUMNS)).iterator(
        chunk_size=CHUNK_SIZE
    )
    converters = [
        (MASKED_COLUMNS.get(header) if masked else None) or CONVERTED_COLUMNS.get(header)
        for header, _ in CUSTOMER_COLUMNS
    ]
    for row in rows:
        cells = [
            convert(value) if convert else value
            for convert, value in zip(converters, row, strict=True)
        ]
        if style.decimal_comma:
            cells = [_decimal_comma(value) for value in cells]
        yield writer.writerow([csv_cell(value) for value in cells])


def _decimal_comma(value: Any) -> Any:
    if isinstance(value, Decimal | float):
        return f"{value}".replace(".", ",")
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and value.count(".") == 1:
        return value.replace(".", ",")
    return value


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
    *,
    queryset: QuerySet,
    user: Any,
    params: dict[str, Any],
    endpoint: str,
    style: CsvStyle = API_STYLE,
) -> StreamingHttpResponse:
    """Stream the filtered customers as CSV and record the export (one COUNT query up front)."""
    row_count = queryset.count()
    record = export_record_create(
        user=user, endpoint=endpoint, params=params, row_count=row_count, format="csv"
    )
    lines = customer_csv_lines(
        queryset=queryset, masked=not can_see_personal_data(user), style=style
    )
    response = StreamingHttpResponse(
        _recorded(lines, record=record),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response
