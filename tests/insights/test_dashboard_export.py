"""Getting the dashboard out: the XLSX workbook (one sheet per section) and the audited print."""

import io
import zipfile
from datetime import date
from unittest import mock

import pytest
from django.contrib.auth.models import Permission

from audit.models import ExportRecord
from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

XLSX = "/admin/insights/dashboard/xlsx/"
PRINT = "/admin/insights/dashboard/print/"


@pytest.fixture
def fake(monkeypatch):
    return FakeQueries().install(monkeypatch)


@pytest.fixture
def viewer(client, db):
    user = UserFactory(is_staff=True, username="sari")
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return user


def _sheets(content: bytes) -> dict[str, str]:
    """{sheet name: the sheet's XML with shared strings inlined enough to search}."""
    book = zipfile.ZipFile(io.BytesIO(content))
    workbook = book.read("xl/workbook.xml").decode()
    strings = book.read("xl/sharedStrings.xml").decode()
    names = [part.split('"')[0] for part in workbook.split('<sheet name="')[1:]]
    return {
        name: book.read(f"xl/worksheets/sheet{i}.xml").decode() + strings
        for i, name in enumerate(names, 1)
    }, strings


def test_workbook_has_one_sheet_per_section_and_is_audited(client, fake, viewer):
    # when
    with mock.patch("insights.periods.local_today", return_value=date(2026, 3, 15)):
        response = client.get(XLSX, {"preset": "last_month", "scope": "all"})

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert 'filename="wawasan-2026-02-01-2026-02-28.xlsx"' in response["Content-Disposition"]
    sheets, strings = _sheets(response.content)
    assert list(sheets) == [
        "Customer growth",
        "Customers by source, company, c",  # Excel's 31-character limit
        "Sales lifecycle",
        "Lost reasons",
        "Top products",
        "RFM segmentation",
        "Revenue",
        "Buyer lifecycle",
        "Retention by cohort",
        "Customer service",
        "Customer value (predicted)",
        "Pipeline and forecast",
        "Customer health",
        "Team sales by owner",  # ":" is not allowed in a sheet name
    ]
    # every revenue card (all 13), the lifecycle, service and value headline figures
    for label in (
        "Paying customers",
        "Average lifetime value",
        "Won deals",
        "Average order value",
        "Win rate",
        "Revenue per day",
        "New customers per day",
        "Hours between new customers",
        "Buyer churn",
        "Median first response",
        "CES",
        "Predicted revenue",
        "Revenue at risk",
    ):
        assert label in strings, label
    assert "<v>15</v>" in sheets["Revenue"]  # won deals
    assert "<v>123456.78</v>" in sheets["Customer value (predicted)"]
    assert "2026-01" in strings  # a retention cohort row
    assert "Period: 2026-02-01 – 2026-02-28" in strings
    # money is a number cell: 30,000,000 revenue, not a formatted string
    assert "<v>30000000</v>" in sheets["Revenue"]
    record = ExportRecord.objects.get()
    assert (record.username, record.format, record.endpoint) == ("sari", "xlsx", XLSX)
    assert record.params == {"preset": ["last_month"], "scope": ["all"]}
    assert record.row_count > 0


def test_workbook_labels_follow_the_language(client, fake, viewer):
    # given
    client.cookies["django_language"] = "id"

    # when
    response = client.get(XLSX, {"preset": "last_month"})

    # then
    _sheets_by_name, strings = _sheets(response.content)
    assert "Periode: 2026" in strings
    assert "Period: " not in strings


def test_bad_period_is_a_400_and_nothing_is_recorded(client, fake, viewer):
    # when
    response = client.get(XLSX, {"start": "2026-03-01", "end": "2026-02-01"})

    # then
    assert response.status_code == 400
    assert b"is after end" in response.content
    assert not ExportRecord.objects.exists()


def test_xlsx_needs_the_insights_permission(client, fake, db):
    # given
    client.force_login(UserFactory(is_staff=True))

    # when / then
    assert client.get(XLSX).status_code == 403


def test_print_is_recorded_then_opens_the_page_in_print_mode(client, fake, viewer):
    # when
    target = "/admin/insights/dashboard/?preset=last_month&granularity=auto"
    response = client.post(PRINT, {"next": target})

    # then
    assert response.status_code == 302
    assert response["Location"] == target + "&print=1"
    record = ExportRecord.objects.get()
    assert (record.format, record.endpoint) == ("pdf", PRINT)
    assert record.params["preset"] == ["last_month"]
    page = client.get(response["Location"]).content.decode()
    assert "insights-print-mode" in page


def test_print_refuses_a_foreign_next(client, fake, viewer):
    # when
    response = client.post(PRINT, {"next": "https://evil.example/"})

    # then
    assert response["Location"] == "/admin/insights/dashboard/?print=1"


def test_dashboard_offers_print_and_xlsx(client, fake, viewer):
    # when
    html = client.get("/admin/insights/dashboard/", {"preset": "last_month"}).content.decode()

    # then
    assert 'id="insights-print"' in html and "Print / save as PDF" in html
    assert 'href="/admin/insights/dashboard/xlsx/?granularity=auto&amp;scope=all' in html
