"""Every figure of the dashboard's period as one XLSX workbook, one sheet per section.

Built from the same presenter output as the page (insights/dashboards/core.py, which reads
only the rollups), with the registry's labels in the reader's language. Money and percentages
are numeric cells with a number format, so the workbook sums and charts like any spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _

from common.csv_cells import csv_cell

from ..figures import SECTIONS, Section, figure, headline_figures
from ..service import ROOM_FIELDS
from ..templatetags.insights_format import display_label
from .params import DashboardParams

UNIT_FORMATS = {
    "money": "#,##0",
    "pct": '0.00"%"',
    "decimal": "#,##0.00",
    "count": "#,##0",
}


@dataclass
class Sheet:
    """One section: headline figures (label, value, unit), then tables (title, header, rows)."""

    key: str
    title: str
    figures: list[tuple[str, Any, str]] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[Sequence[Any]]]] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.figures) + sum(len(rows) for _t, _h, rows in self.tables)


def _headline(section: Section, result: Any) -> list[tuple[str, Any, str]]:
    values = section.headline_values(result)
    return [(str(f.label), values[f.key], f.unit) for f in headline_figures(section.key)]


Table = tuple[str, list[str], list[Sequence[Any]]]


def _growth_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("growth_trend").label),
            [_("Start"), _("End"), _("Total"), _("New"), _("Inactive")],
            [(b.start, b.end, b.total, b.new, b.inactive) for b in results["growth"].trend],
        )
    ]


def _demographics_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    demo = results["demographics"]
    return [
        (
            str(figure(key).label),
            [_("Label"), _("Customers")],
            [(display_label(r.label), r.customers) for r in getattr(demo, key)],
        )
        for key in ("by_source", "by_company", "by_country", "by_city")
    ]


def _sales_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("association_trend").label),
            [_("Start"), _("End"), _("Customers with deals"), _("Total customers"), "%"],
            [
                (b.start, b.end, b.customers_with_deals, b.total_customers, b.pct)
                for b in results["sales"].association_trend
            ],
        )
    ]


def _lost_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("lost_reasons").label),
            [_("Reason"), _("Deals"), _("Customers")],
            [(display_label(r.reason), r.deals, r.customers) for r in results["lost"]],
        )
    ]


def _products_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("top_products").label),
            [_("Product"), _("Won deals"), _("Quantity"), _money()],
            [(p.product, p.won_deals, p.quantity, p.revenue) for p in results["products"]],
        )
    ]


def _rfm_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("rfm_segments").label),
            [_("Segment"), _("Customers"), _money()],
            [(g.segment, g.customers, g.revenue) for g in results["rfm"]],
        ),
        (
            str(figure("rfm_grid").label),
            ["R \\ F", "F1", "F2", "F3", "F4", "F5"],
            [
                (f"R{row['r']}", *[cell["count"] for cell in row["cells"]])
                for row in figures["grid_rows"]
            ],
        ),
    ]


def _lifecycle_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    return [
        (
            str(figure("lifecycle_trend").label),
            [_("Start"), _("End"), _("New buyers"), _("Returning buyers"), _("Lost buyers")],
            [
                (b.start, b.end, b.new_buyers, b.returning_buyers, b.lost_buyers)
                for b in results["lifecycle"].trend
            ],
        )
    ]


def _retention_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    retention = results["retention"]
    offsets = max((len(c.pct) for c in retention.cohorts), default=0)
    return [
        (
            str(figure("retention").label),
            [_("Cohort"), _("Customers"), *[f"+{k} (%)" for k in range(offsets)]],
            [(c.cohort, c.size, *c.pct) for c in retention.cohorts],
        )
    ]


def _service_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    service = results["service"]
    columns = [str(figure(key).label) for key in ROOM_FIELDS]
    return [
        *[
            (title, [_("Label"), *columns], [(r.label, *[getattr(r, k) for k in ROOM_FIELDS])
                                             for r in rows])
            for title, rows in (
                (_("By channel"), service.by_channel),
                (_("By agent"), service.by_agent),
            )
        ],
        (
            _("Trend"),
            [_("Start"), _("End"), _("Rooms"), str(figure("median_resolution_s").label)],
            [(b.start, b.end, b.rooms, b.median_resolution_s) for b in service.trend],
        ),
    ]  # fmt: skip


OWNER_COLUMNS = (
    "won_deals",
    "revenue",
    "lost_deals",
    "win_rate_pct",
    "avg_won_value",
    "median_cycle_days",
    "new_buyers",
    "open_deals",
    "open_value",
    "weighted_value",
)


def _owners_tables(figures: dict[str, Any], results: dict[str, Any]) -> list[Table]:
    rows = results["owners"].owners
    return [
        (
            str(SECTION_TITLES["owners"]),
            [_("Owner"), *OWNER_COLUMNS],
            [(r.owner, *[getattr(r, name) for name in OWNER_COLUMNS]) for r in rows],
        )
    ]


SECTION_TITLES = {s.key: s.title for s in SECTIONS}


# The tables of each section beside its headline rows (sections with none have no entry).
TABLES: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Table]]] = {
    "growth": _growth_tables,
    "demographics": _demographics_tables,
    "sales": _sales_tables,
    "lost": _lost_tables,
    "products": _products_tables,
    "rfm": _rfm_tables,
    "lifecycle": _lifecycle_tables,
    "retention": _retention_tables,
    "service": _service_tables,
    "owners": _owners_tables,
}


def _money() -> str:
    return _("Revenue (%(currency)s)") % {"currency": settings.INSIGHTS_CURRENCY}


def dashboard_sheets(
    *, params: DashboardParams, figures: dict[str, Any], **choices: Any
) -> list[Sheet]:
    """One sheet per section of the figure registry, in its order: the section's headline
    figures, then its tables. `figures` is the page presenter's dict (its results are reused);
    `choices` are the page's other options (lost_after, event)."""
    options = {
        "period": params.period,
        "granularity": params.granularity,
        "scope": params.scope,
        "order": params.order,
        **choices,
    }
    results: dict[str, Any] = {
        "growth": figures["growth"],
        "sales": figures["sales"],
        "lost": figures["lost"],
        "products": figures["products"],
        "revenue": figures["kpis"],
    }
    sheets = []
    for section in SECTIONS:
        if section.key not in results:
            results[section.key] = section.run(**options)
        sheet = Sheet(section.key, str(section.title), _headline(section, results[section.key]))
        if section.key in TABLES:
            sheet.tables.extend(TABLES[section.key](figures, results))
        sheets.append(sheet)
    return sheets


def _excel_value(value: Any) -> Any:
    if isinstance(value, str):  # a decimal kept as text by a JSON-cached answer ("12.50")
        value = Decimal(value)
    return float(value) if isinstance(value, Decimal) else value


def cell_write(ws: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """Write one cell: numbers as numbers, dates as dates, anything else as a text cell.

    Text never becomes a formula (a lost reason "=HYPERLINK(...)" any rep may add reaches every
    manager's workbook): it is written as a string, with the leading apostrophe the CSV export
    puts before a formula prefix (common.csv_cells), so no spreadsheet runs it later either.
    """
    if value is None:
        ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, _excel_value(value), cell_format)
    elif hasattr(value, "isoformat"):
        ws.write_datetime(row, col, value, cell_format)
    else:
        ws.write_string(row, col, csv_cell(str(value)), cell_format)


def dashboard_workbook(*, params: DashboardParams, sheets: list[Sheet]) -> bytes:
    """The workbook's bytes: a period line, then each sheet's figures and tables."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "default_date_format": "yyyy-mm-dd",
            # Belt and braces: no write() of this workbook turns text into a formula or URL.
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    bold = book.add_format({"bold": True})
    formats = {unit: book.add_format({"num_format": f}) for unit, f in UNIT_FORMATS.items()}
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    period = _("Period: %(start)s – %(end)s") % {
        "start": params.period.start.isoformat(),
        "end": params.period.end.isoformat(),
    }
    for sheet in sheets:
        # Excel limits sheet names to 31 characters and forbids a few symbols.
        name = "".join(c for c in sheet.title if c not in "[]:*?/\\")[:31]
        ws = book.add_worksheet(name)
        ws.set_column(0, 0, 36)
        ws.set_column(1, 6, 16)
        cell_write(ws, 0, 0, sheet.title, bold)
        cell_write(ws, 1, 0, period)
        row = 3
        for label, value, unit in sheet.figures:
            cell_write(ws, row, 0, label)
            if value is None:  # not computable (an unfitted model): an empty cell, not 0
                row += 1
                continue
            ws.write_number(row, 1, _excel_value(value), formats.get(unit, formats["count"]))
            if unit == "money":
                cell_write(ws, row, 2, settings.INSIGHTS_CURRENCY)
            row += 1
        for title, header, rows in sheet.tables:
            row += 1
            cell_write(ws, row, 0, title, bold)
            row += 1
            for col, value in enumerate(header):
                cell_write(ws, row, col, value, bold)
            for values in rows:
                row += 1
                for col, value in enumerate(values):
                    date_cell = hasattr(value, "isoformat")
                    cell_write(ws, row, col, value, date_format if date_cell else None)
            row += 1
    book.close()
    return out.getvalue()
