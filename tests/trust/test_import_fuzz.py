"""Hostile files for `import_records`: never a traceback, good rows kept, bad rows reported."""

import csv
import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.models import Company, Contact
from imports.importer import import_records

pytestmark = pytest.mark.django_db
HEADER = "external_id,first_name,email,phone,created_at\n"
GOOD = "c-1,Ani,ani@contoh.id,0812-3456-7890,2026-01-05T10:00:00+07:00\n"
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", '=HYPERLINK("x")']


def run(kind: str, path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `manage.py import_records KIND PATH`; never raises."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_records", kind, str(path), stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def test_a_header_only_file_loads_nothing_and_succeeds(tmp_path):
    # given
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER, encoding="utf-8")

    # when
    code, out, err = run("contacts", path)

    # then
    assert (code, out.strip(), err) == (0, "created 0, updated 0, unchanged 0, rejected 0", "")


def test_a_latin1_row_is_rejected_alone_with_its_line(tmp_path):
    # given: the header is ASCII, the row is Latin-1 (CONTRACT.md section 1: its row only)
    path = tmp_path / "contacts.csv"
    path.write_bytes((HEADER + "c-2,José,jose@contoh.id,,2026-01-05\n").encode("latin-1"))

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1 and "line 2: not UTF-8" in err and "rejected 1" in out
    assert Contact.objects.count() == 0


def test_a_utf16_file_is_refused_with_a_clear_message(tmp_path):
    # given: even the header does not decode
    path = tmp_path / "contacts.csv"
    path.write_bytes((HEADER + "c-2,Ani,,,2026-01-05\n").encode("utf-16"))

    # when
    code, _out, err = run("contacts", path)

    # then
    assert code == 2 and "header is not UTF-8" in err
    assert Contact.objects.count() == 0


def test_a_1_mb_cell_rejects_its_row_and_keeps_the_others(tmp_path):
    # given
    path = tmp_path / "contacts.csv"
    huge = "x" * 1_000_000
    path.write_text(HEADER + GOOD + f"c-2,{huge},,,2026-01-05\n", encoding="utf-8")

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1 and "rejected 1" in out
    assert "line 3: first_name: longer than 150 characters" in err
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["c-1"]
    rejected = list(csv.reader((tmp_path / "contacts.csv.rejected.csv").open(encoding="utf-8")))
    assert rejected[1][:2] == ["c-2", huge]


def test_an_unclosed_quote_on_a_huge_line_rejects_its_row_not_read_into_memory(tmp_path):
    # given: a quote never closed on a line longer than the row limit
    path = tmp_path / "contacts.csv"
    path.write_text(
        HEADER + GOOD + 'c-2,"Ani' + "x" * 20_000_000 + "\n" + "c-3,Budi,,,2026-01-05\n",
        encoding="utf-8",
    )

    # when
    code, out, err = run("contacts", path)

    # then: that row is rejected, the next one loads
    assert code == 1 and "line 3: the row is longer than 8,388,608 characters" in err
    assert out.strip().endswith("created 2, updated 0, unchanged 0, rejected 1")


def test_a_nul_byte_rejects_its_row(tmp_path):
    # given: PostgreSQL text cannot hold NUL
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + GOOD + "c-2,A\x00ni,,,2026-01-05\n", encoding="utf-8")

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1 and "rejected 1" in out and "line 3: first_name: contains a NUL" in err
    assert Contact.objects.count() == 1


def test_formulas_in_rejected_rows_are_neutralised(tmp_path):
    # given: formulas in cells of rows rejected for their date
    path = tmp_path / "companies.csv"
    lines = ["external_id,name,created_at"]
    lines += [
        f'"f{i}","{f.replace(chr(34), chr(34) * 2)}",not-a-date' for i, f in enumerate(FORMULAS)
    ]
    lines += ['"=ok","=kept as data",2026-01-05']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # when
    code, out, _err = run("companies", path)

    # then: each formula comes back behind an apostrophe; the good row is stored as typed
    assert code == 1 and f"rejected {len(FORMULAS)}" in out
    rejected = list(csv.reader((tmp_path / "companies.csv.rejected.csv").open(encoding="utf-8")))
    assert [row[1] for row in rejected[1:]] == ["'" + f for f in FORMULAS]
    assert Company.objects.get(external_id="=ok").name == "=kept as data"


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=2000))
def test_random_bytes_never_crash_the_command(tmp_path, body):
    # given: a good header, then anything at all
    path = tmp_path / "contacts.csv"
    path.write_bytes(HEADER.encode() + body)

    # when
    code, out, err = run("contacts", path)

    # then: a clear outcome, never a traceback
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code != 2:
        assert "created" in out


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=7), max_size=20))
def test_random_text_rows_are_either_kept_or_reported(cells):
    # given: rows of arbitrary text, decoded already (the stream the command hands over)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER.strip().split(","))
    writer.writerows(cells)
    buffer.seek(0)
    seen: list[int] = []

    # when
    result = import_records(
        kind="contacts", stream=buffer, on_rejection=lambda r, _h: seen.append(r.line)
    )

    # then: every non-blank row is counted exactly once, and every rejection is reported
    data_rows = [row for row in cells if row and any(c.strip() for c in row)]
    assert result.rejected == len(seen)
    assert result.created + result.updated + result.unchanged + result.rejected <= len(data_rows)
    assert Contact.objects.count() <= len(data_rows)


def test_random_mixtures_of_good_and_bad_rows_keep_every_good_row(tmp_path):
    # given: 200 rows, a random third of them broken in a random way
    rng = random.Random(4)
    breakers = [
        lambda r: r.replace("2026-01-05", "yesterday"),
        lambda r: "," + r.split(",", 1)[1],  # no external id
        lambda r: r + "," * 3 + "=cmd|' /C calc'!A0",
        lambda r: r.replace("Ani", "A" * 200),
    ]
    rows, good = [], set()
    for n in range(200):
        row = f"c-{n},Ani,ani{n}@contoh.id,,2026-01-05"
        if rng.random() < 0.33:
            row = rng.choice(breakers)(row)
        # Extra cells past the header reject the row (CONTRACT.md section 1, as updated).
        broken = ("yesterday", "A" * 200, "=cmd")
        if row.startswith(f"c-{n},") and not any(b in row for b in broken):
            good.add(f"c-{n}")
        rows.append(row)
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")

    # when
    code, out, _err = run("contacts", path)

    # then
    assert set(Contact.objects.values_list("external_id", flat=True)) == good
    assert f"created {len(good)}," in out and f"rejected {200 - len(good)}" in out
    assert code == 1


def test_a_long_import_keeps_no_sql_text_in_memory_with_debug_on(settings):
    # given: DEBUG on, where Django logs every statement's SQL, and three batches of rows
    settings.DEBUG = True
    lines = [f"c-{n},Ani,ani{n}@contoh.id,,2026-01-05" for n in range(30)]
    stream = io.StringIO(HEADER + "\n".join(lines) + "\n")

    # when
    result = import_records(kind="contacts", stream=stream, batch_size=10)

    # then
    assert result.created == 30
    assert len(connection.queries_log) == 0
