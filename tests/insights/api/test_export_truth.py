"""Issue 13 item 3: an extreme date cannot cut an export; its audit row tells the truth."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from audit.models import ExportRecord
from customers.models import Customer
from insights.api import export

from .conftest import make_customer

LIST = "/api/v1/customers/"
pytestmark = pytest.mark.django_db


def _body(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_year_9999_timestamp_is_exported_and_the_record_counts_every_row(api):
    # given: a customer first seen at 9999-12-31 23:00 UTC, past the last local time there is
    make_customer(display_name="A")
    Customer.objects.create(
        display_name="Old",
        first_seen_at=datetime(9999, 12, 31, 23, tzinfo=UTC),
        first_seen_date=date(9999, 12, 31),
    )
    make_customer(display_name="C")

    # when
    rows = _body(api.get(LIST, {"format": "csv"}))

    # then: all three rows; the far date as stored, in UTC, since it has no local time
    assert len(rows) == 4
    assert "9999-12-31T23:00:00+00:00" in [row[7] for row in rows]
    record = ExportRecord.objects.get()
    assert (record.row_count, record.complete) == (3, True)


def test_an_export_cut_short_records_the_rows_it_sent(api, monkeypatch):
    # given: the third row fails to render
    for name in ("A", "B", "BOOM", "D"):
        make_customer(display_name=name)
    original = export.csv_cell

    def csv_cell(value):
        if value == "BOOM":
            raise RuntimeError("row failed")
        return original(value)

    monkeypatch.setattr(export, "csv_cell", csv_cell)
    response = api.get(LIST, {"format": "csv"})

    # when
    with pytest.raises(RuntimeError):
        b"".join(response.streaming_content)

    # then: 2 rows left the server, and the record says so instead of claiming 4
    record = ExportRecord.objects.get()
    assert (record.row_count, record.complete) == (2, False)
