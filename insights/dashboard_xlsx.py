"""Every figure of the dashboard's period as one XLSX workbook, one sheet per section.

Built from the same presenter output as the page (insights/dashboard_figures.py, which reads
only the rollups), with the registry's labels in the reader's language. Money and percentages
are numeric cells with a number format, so the workbook sums and charts like any spreadsheet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _

from common.csv_cells import csv_cell

from .dashboard_params import DashboardParams
from .figures import SECTIONS, figure
from .templatetags.insights_format import display_label

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


def _cards(cards: list[dict[str, Any]]) -> list[tuple[str, Any, str]]:
    return [(str(c["label"]), c["value"], c["kind"]) for c in cards]


def dashboard_sheets(*, figures: dict[str, Any]) -> list[Sheet]:
    """The dashboard's figures (the presenter's dict) as sheets, in the page's section order."""
    money = _("Revenue (%(currency)s)") % {"currency": settings.INSIGHTS_CURRENCY}
    titles = {s.key: str(s.title) for s in SECTIONS}
    growth = Sheet("growth", titles["growth"], _cards(figures["growth_figures"]))
    growth.tables.append(
        (
            str(figure("growth_trend").label),
            [_("Start"), _("End"), _("Total"), _("New"), _("Inactive")],
            [
                (
                    t["bucket"].start,
                    t["bucket"].end,
                    t["bucket"].total,
                    t["bucket"].new,
                    t["bucket"].inactive,
                )
                for t in figures["trend"]
            ],
        )
    )
    demographics = Sheet("demographics", titles["demographics"])
    for key, rows in (("by_source", figures["sources"]), ("by_company", figures["companies"])):
        demographics.tables.append(
            (
                str(figure(key).label),
                [_("Label"), _("Customers")],
                [(display_label(r["row"].label), r["row"].customers) for r in rows],
            )
        )
    sales = Sheet("sales", titles["sales"], _cards(figures["sales_figures"]))
    sales.tables.append(
        (
            str(figure("association_trend").label),
            [_("Start"), _("End"), _("Customers with deals"), _("Total customers"), "%"],
            [
                (b.start, b.end, b.customers_with_deals, b.total_customers, b.pct)
                for b in figures["sales"].association_trend
            ],
        )
    )
    lost = Sheet("lost", titles["lost"])
    lost.tables.append(
        (
            str(figure("lost_reasons").label),
            [_("Reason"), _("Deals"), _("Customers")],
            [(display_label(r.reason), r.deals, r.customers) for r in figures["lost"]],
        )
    )
    products = Sheet("products", titles["products"])
    products.tables.append(
        (
            str(figure("top_products").label),
            [_("Product"), _("Won deals"), _("Quantity"), money],
            [(p.product, p.won_deals, p.quantity, p.revenue) for p in figures["products"]],
        )
    )
    rfm = Sheet("rfm", titles["rfm"])
    rfm.tables.append(
        (
            str(figure("rfm_segments").label),
            [_("Segment"), _("Customers"), money],
            [(s["row"].segment, s["row"].customers, s["row"].revenue) for s in figures["segments"]],
        )
    )
    rfm.tables.append(
        (
            str(figure("rfm_grid").label),
            ["R \\ F", "F1", "F2", "F3", "F4", "F5"],
            [
                (f"R{row['r']}", *[cell["count"] for cell in row["cells"]])
                for row in figures["grid_rows"]
            ],
        )
    )
    revenue = Sheet("revenue", titles["revenue"], _cards(figures["kpi_figures"]))
    return [growth, demographics, sales, lost, products, rfm, revenue]


def _excel_value(value: Any) -> Any:
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
