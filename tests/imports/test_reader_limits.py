"""Issue 27 items 5, 7, 17, 18 and issue 32 item 9: the reader's limits and what it teaches.

Rejected rows are flushed with the batch (memory bounded by the batch size), the repeated-
header check is linear, a quote never closed rejects its row (the lines it swallowed are read
again), a row has a size limit besides the cell limit, `;` files load, and a timestamp that does
not parse says which format to use.
"""

import io
import time

import pytest

from customers.models import Contact
from imports.driver import Limits
from imports.importer import ImportFileError, import_records
from tests.imports.test_import_records import csv_file, run

pytestmark = pytest.mark.django_db

HEADER = "external_id,first_name,created_at\n"


def load(text: str, **options):
    seen, progress = [], []
    result = import_records(
        kind="contacts",
        stream=io.BytesIO(text.encode("utf-8")),
        on_rejection=lambda rejection, header: seen.append(rejection),
        progress=progress.append,
        **options,
    )
    return result, seen, progress


def test_rejected_rows_are_flushed_with_the_batch_not_kept_until_a_good_row():
    # given: 95 bad rows and no good one; batches of 10
    text = HEADER + "".join(f"c-{n},Ani,not-a-date\n" for n in range(95))
    emitted_at_progress = []

    seen: list = []

    def progress(rows: int) -> None:
        emitted_at_progress.append((rows, len(seen)))

    # when
    result = import_records(
        kind="contacts",
        stream=io.BytesIO(text.encode()),
        on_rejection=lambda rejection, header: seen.append(rejection),
        progress=progress,
        batch_size=10,
    )

    # then: each batch of rejections is reported at once, and progress counts them as read
    assert result.rejected == 95
    assert [rows for rows, _ in emitted_at_progress] == [10] * 9 + [5]
    assert [emitted for _, emitted in emitted_at_progress] == list(range(10, 100, 10)) + [95]


def test_a_repeated_header_check_is_linear():
    # given: 200,000 columns, one of them twice (a quadratic check took seconds at 18,300)
    names = [f"col{n}" for n in range(200_000)]
    header = ",".join(["external_id", "created_at", *names, "col7"]) + "\n"

    # when
    started = time.perf_counter()
    with pytest.raises(ImportFileError) as error:
        load(header + "c-1,2026-01-05\n")
    took = time.perf_counter() - started

    # then
    assert "column(s) named twice in the header: col7" in str(error.value)
    assert took < 2


def test_a_quote_never_closed_rejects_its_row_and_the_rows_it_swallowed_still_load(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        HEADER + 'c-1,Ani,2026-01-05\nc-2,"Budi,2026-01-05\nc-3,Citra,2026-01-05\n',
    )

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1
    assert "line 3: a quoted cell is not closed before the end of the file" in err
    assert out.strip() == "created 2, updated 0, unchanged 0, rejected 1"
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["c-1", "c-3"]
    rejected = (tmp_path / "data.csv.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected[1].endswith("a quoted cell is not closed before the end of the file")


def test_a_quoted_cell_over_the_line_limit_is_rejected_and_a_shorter_one_loads():
    # given: a note over two lines is fine; one over five lines with a limit of three is not
    text = (
        HEADER
        + 'c-1,"Ani\nSetiawati",2026-01-05\n'
        + 'c-2,"a\nb\nc\nd\ne",2026-01-05\n'
        + "c-3,Citra,2026-01-05\n"
    )

    # when
    result, seen, _ = load(text, limits=Limits(row_lines=3))

    # then
    assert (4, "a quoted cell is not closed within 3 lines") in [(r.line, r.reason) for r in seen]
    names = dict(Contact.objects.values_list("external_id", "first_name"))
    assert names["c-1"] == "Ani\nSetiawati"
    assert names["c-3"] == "Citra"
    assert "c-2" not in names


def test_a_row_over_the_row_limit_is_rejected_even_when_each_cell_is_under_the_cell_limit():
    # given: three cells of 390 characters (the row limit is 1,000, the cell limit 400)
    cell = "x" * 390
    text = (
        "external_id,first_name,last_name,city,created_at\n"
        + f"c-1,{cell},{cell},{cell},2026-01-05\n"
        + f"c-2,{'y' * 450},,,2026-01-05\n"
        + "c-3,Citra,,,2026-01-05\n"
    )

    # when
    result, seen, _ = load(text, limits=Limits(cell_chars=400, row_chars=1000))

    # then
    assert [(r.line, r.reason) for r in seen] == [
        (2, "the row is longer than 1,000 characters"),
        (3, "first_name: longer than 400 characters"),
    ]
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["c-3"]


def test_a_row_over_the_limit_across_lines_is_rejected_and_its_other_lines_read_again():
    # given: a quote never closed, the lines after it short enough to be rows of their own
    text = (
        HEADER + 'c-1,"Ani,2026-01-05\n' + "".join(f"c-{n},Budi,2026-01-05\n" for n in range(2, 40))
    )

    # when
    result, seen, _ = load(text, limits=Limits(row_chars=200))

    # then
    assert [(r.line, r.reason) for r in seen] == [
        (2, "the row is longer than 200 characters (a quoted cell not closed?)")
    ]
    assert result.created == 38


def test_a_semicolon_separated_file_loads(tmp_path):
    # given: what Indonesian Excel saves as "CSV"
    path = csv_file(
        tmp_path,
        'external_id;first_name;city;created_at\nc-1;Ani;"Jakarta, Selatan";2026-01-05\n',
    )

    # when
    code, out, _ = run("contacts", path)

    # then
    assert code == 0
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 0"
    assert Contact.objects.get().city == "Jakarta, Selatan"


def test_a_comma_file_whose_cells_hold_semicolons_stays_a_comma_file():
    result, seen, _ = load('external_id,first_name,created_at\nc-1,"A;B;C",2026-01-05\n')

    assert result.created == 1 and not seen
    assert Contact.objects.get().first_name == "A;B;C"


def test_a_day_first_date_is_rejected_with_the_format_to_use(tmp_path):
    # given
    path = csv_file(tmp_path, HEADER + "c-1,Ani,31/12/2026\n")

    # when
    code, _, err = run("contacts", path)

    # then: ISO 8601 stays the rule (31/12 and 12/31 cannot both be read safely)
    assert code == 1
    assert (
        "line 2: created_at: not an ISO 8601 timestamp: '31/12/2026' (write YYYY-MM-DD or "
        "YYYY-MM-DD HH:MM; e.g. 2026-12-31 or 2026-12-31 14:30 or 2026-12-31T14:30:00+07:00)"
    ) in err
