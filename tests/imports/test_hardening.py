"""Hostile import files of issue 13 (items 3, 4 and 5): each bad row is rejected alone."""

import dataclasses
import io
import sys
from decimal import Decimal

import pytest

from chats.models import ChatRoom
from customers.models import Contact
from deals.models import Deal, DealItem, Product
from imports.importer import ImportFileError, import_records
from tests.factories import ChatContactFactory, DealFactory, ProductFactory
from tests.imports.test_import_records import csv_file, run

pytestmark = pytest.mark.django_db

CONTACTS = "external_id,first_name,created_at\n"


@pytest.mark.parametrize(
    "stamp",
    ["0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:59:59", "2101-01-01"],
)
def test_timestamps_outside_1900_to_2100_are_rejected(tmp_path, stamp):
    # given: the extreme dates that once broke the contact list and the export
    path = csv_file(tmp_path, f"{CONTACTS}c-1,Ani,{stamp}\nc-2,Budi,2026-01-05\n")

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 1"
    assert f"line 2: created_at: {stamp!r} is outside 1900-01-01 to 2100-12-31" in err
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["c-2"]


def test_the_edges_of_the_timestamp_range_are_kept(tmp_path):
    # given
    path = csv_file(tmp_path, f"{CONTACTS}c-1,Ani,1900-01-01T00:00:00\nc-2,Budi,2100-12-31\n")

    # when
    code, out, _ = run("contacts", path)

    # then
    assert code == 0
    assert out.strip() == "created 2, updated 0, unchanged 0, rejected 0"


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1e400", "not a number: '1e400'"),
        ("1e30", "not a number: '1e30'"),
        ("１２３", "not a number: '１２３'"),
        ("1_000", "not a number: '1_000'"),
        ("1,000", "not a number: '1,000'"),
        ("NaN", "not a number: 'NaN'"),
        ("1000000000000", "must be below 1,000,000,000,000"),
    ],
)
def test_amounts_that_are_not_plain_or_too_large_reject_their_row(tmp_path, amount, reason):
    # given: one bad amount between two good deals
    path = csv_file(
        tmp_path,
        "external_id,stage,amount,created_at\n"
        "d-1,Open,10,2026-01-05\n"
        f'd-2,Open,"{amount}",2026-01-05\n'
        "d-3,Open,999999999999.99,2026-01-05\n",
    )

    # when
    code, out, err = run("deals", path)

    # then: a summary and a rejected file, never a traceback
    assert code == 1
    assert out.strip() == "created 2, updated 0, unchanged 0, rejected 1"
    assert err.splitlines()[0] == f"line 3: amount: {reason}"
    assert (tmp_path / "data.csv.rejected.csv").exists()
    assert sorted(Deal.objects.values_list("external_id", flat=True)) == ["d-1", "d-3"]


def test_quantity_and_unit_price_are_bounded(tmp_path):
    # given: the line item that once stopped every rebuild (1,000 x 10^14), and its neighbours
    deal = DealFactory(external_id="d-1")
    ProductFactory(external_id="p-1")
    path = csv_file(
        tmp_path,
        "deal_external_id,product_external_id,quantity,unit_price\n"
        "d-1,p-1,1000,100000000000000\n"
        "d-1,p-1,1000000,1\n"
        "d-1,p-1,999999.99,999999999999.99\n",
    )

    # when
    code, out, err = run("deal_items", path)

    # then
    assert code == 1
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 2"
    assert err.splitlines()[:2] == [
        "line 2: unit_price: must be below 1,000,000,000,000",
        "line 3: quantity: must be below 1,000,000",
    ]
    item = DealItem.objects.get(deal=deal)
    assert (item.quantity, item.unit_price) == (Decimal("999999.99"), Decimal("999999999999.99"))


def test_full_width_digits_are_not_a_whole_number(tmp_path):
    # given
    ChatContactFactory(external_id="cc-1")
    path = csv_file(
        tmp_path,
        "external_id,chat_contact_external_id,created_at,csat_score\n"
        "r-1,cc-1,2026-01-05,５\nr-2,cc-1,2026-01-05,5\n",
    )

    # when
    code, _, err = run("chat_rooms", path)

    # then
    assert code == 1
    assert "line 2: csat_score: not a whole number: '５'" in err
    assert list(ChatRoom.objects.values_list("external_id", flat=True)) == ["r-2"]


def test_resolved_before_created_is_rejected(tmp_path):
    # given
    ChatContactFactory(external_id="cc-1")
    path = csv_file(
        tmp_path,
        "external_id,chat_contact_external_id,created_at,resolved_at\n"
        "r-1,cc-1,2026-01-05T10:00:00,2026-01-05T09:59:59\n"
        "r-2,cc-1,2026-01-05T10:00:00,2026-01-05T10:00:00\n",
    )

    # when
    code, out, err = run("chat_rooms", path)

    # then: resolving in the same second is fine, a minute before is not
    assert code == 1
    assert err.splitlines()[0] == "line 2: resolved_at: before created_at"
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 1"


def test_a_column_named_twice_refuses_the_file(tmp_path):
    # given
    path = csv_file(tmp_path, "external_id,name,name\nco-1,PT A,PT B\n")

    # when
    code, _, err = run("companies", path)

    # then
    assert code == 2
    assert "column(s) named twice in the header: name" in err


def test_an_extra_cell_rejects_the_row_with_its_own_reason(tmp_path):
    # given: a stray comma shifts created_at into a fourth cell
    path = csv_file(tmp_path, f"{CONTACTS}c-1,Ani,Wijaya,2026-01-05\nc-2,Budi,2026-01-05\n")

    # when
    code, out, err = run("contacts", path)

    # then: not the misleading "created_at: required"
    assert code == 1
    assert err.splitlines()[0] == "line 2: 4 cells but the header has 3 columns"
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 1"


def test_bytes_that_are_not_utf8_reject_only_their_row(tmp_path):
    # given: a Latin-1 name in the middle of a good file
    path = tmp_path / "data.csv"
    path.write_bytes(
        CONTACTS.encode() + b"c-1,Ani,2026-01-05\nc-2,Jos\xe9,2026-01-05\nc-3,Budi,2026-01-05\n"
    )

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1
    assert err.splitlines()[0] == "line 3: not UTF-8"
    assert out.strip() == "created 2, updated 0, unchanged 0, rejected 1"
    rejected = (tmp_path / "data.csv.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[1] == "c-2,Jos\ufffd,2026-01-05,not UTF-8"
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["c-1", "c-3"]


def test_not_utf8_on_standard_input_rejects_only_its_row(tmp_path, monkeypatch):
    # given
    monkeypatch.chdir(tmp_path)
    data = b"\xef\xbb\xbf" + CONTACTS.encode() + b"c-1,\xff\xfe,2026-01-05\nc-2,Budi,2026-01-05\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    # when
    code, out, err = run("contacts", "-")

    # then
    assert code == 1
    assert "line 2: not UTF-8" in err
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 1"


def test_a_header_that_is_not_utf8_refuses_the_file():
    # given / when / then
    with pytest.raises(ImportFileError, match="header is not UTF-8"):
        import_records(kind="companies", stream=io.BytesIO(b"external_id,n\xe4me\nco-1,A\n"))


def test_an_unexpected_error_in_a_row_rejects_that_row(monkeypatch):
    # given: parsing one row raises something no check foresaw
    from imports import kinds

    original = kinds.KINDS["products"].parse

    def parse(cells):
        if cells.record.get("external_id") == "p-2":
            raise RuntimeError("boom")
        return original(cells)

    monkeypatch.setitem(
        kinds.KINDS, "products", dataclasses.replace(kinds.KINDS["products"], parse=parse)
    )
    stream = io.StringIO("external_id,name\np-1,A\np-2,B\np-3,C\n")
    seen = []

    # when
    result = import_records(
        kind="products", stream=stream, on_rejection=lambda r, h: seen.append(r)
    )

    # then
    assert (result.created, result.rejected) == (2, 1)
    assert [(r.line, r.reason) for r in seen] == [(3, "could not be read (RuntimeError)")]
    assert sorted(Product.objects.values_list("external_id", flat=True)) == ["p-1", "p-3"]


def test_an_unexpected_error_while_writing_rejects_only_that_row(monkeypatch):
    # given: the database refuses one row of a batch
    from imports import loaders

    original = loaders.bulk_write

    def bulk_write(model, rows, attnames, **kwargs):
        if any(row.get("external_id") == "p-2" for row in rows):
            raise ValueError("refused")
        return original(model, rows, attnames, **kwargs)

    monkeypatch.setattr(loaders, "bulk_write", bulk_write)
    stream = io.StringIO("external_id,name\np-1,A\np-2,B\np-3,C\n")
    seen = []

    # when
    result = import_records(
        kind="products", stream=stream, on_rejection=lambda r, h: seen.append(r)
    )

    # then: the batch is retried row by row; only p-2 is lost, with its reason
    assert (result.created, result.updated, result.rejected) == (2, 0, 1)
    assert [(r.line, r.reason) for r in seen] == [(3, "could not be saved (refused)")]
    assert sorted(Product.objects.values_list("external_id", flat=True)) == ["p-1", "p-3"]
