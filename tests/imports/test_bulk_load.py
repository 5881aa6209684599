"""Issue 33, round eight: the COPY path's bulk load (imports.fast.bulk_tables, _rebuilt_after).

A load at least as large as the table it writes locks the table, drops its secondary indexes
and foreign keys and builds them again after the load, in the import's one transaction. These
tests pin that it changes nothing a user sees: every rule's report and the stored rows are the
portable path's with the bulk load forced on and forced off, the indexes and keys come back as
they were (and are gone during the load), `--atomic` with a bad row leaves the table as it was,
and a table larger than the file is left alone. The portable path (SQLite) is unchanged: its
own tests (test_import_records.py and the rest of this folder) run on both databases.
"""

import io
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from customers.models import Contact
from deals.models import Deal, DealChange
from imports import fast
from imports.importer import import_records
from tests.factories import ContactFactory, UserFactory
from tests.imports.test_copy_path import FILES, _given, _load_twice

pytestmark = pytest.mark.django_db


def _pg_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the bulk load is the COPY path's, PostgreSQL only")


def _schema(table: str) -> tuple[list, list]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table]
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY 1",
            [table],
        )
        return indexes, cursor.fetchall()


def _force_bulk(monkeypatch, settings, on: bool) -> list[list[str]]:
    """Bulk load for every table (on) or none (off); returns the tables each load took."""
    settings.WAWASAN_IMPORT_BULK = on
    # A tiny ratio: the file "outweighs" any table, so every candidate is taken.
    monkeypatch.setattr(fast, "BULK_FILE_PER_TABLE_ROW", 1e-9)
    taken: list[list[str]] = []
    real = fast.bulk_tables

    def spy(plan, rows):
        tables = real(plan, rows)
        taken.append(tables)
        return tables

    monkeypatch.setattr(fast, "bulk_tables", spy)
    return taken


@pytest.mark.parametrize("bulk", [True, False])
@pytest.mark.parametrize("kind", list(FILES))
def test_every_rule_reports_the_same_with_and_without_the_bulk_load(
    kind, bulk, settings, monkeypatch
):
    _pg_only()
    # given: the stored records of test_copy_path (updates, unchanged rows, references)
    _given()
    taken = _force_bulk(monkeypatch, settings, bulk)

    # when: the file twice through each path (the second load: every row unchanged)
    portable, portable_rows = _load_twice(kind, FILES[kind], copy=False, settings=settings)
    copied, copied_rows = _load_twice(kind, FILES[kind], copy=True, settings=settings)

    # then: the COPY path took (or did not take) the bulk load, and reported and stored
    # exactly what the portable path did
    table = fast.PLANS[kind].model._meta.db_table
    assert len(taken) == 2
    assert all((table in tables) is bulk for tables in taken)
    assert copied == portable
    assert copied_rows == portable_rows


def test_the_indexes_and_keys_are_gone_during_the_load_and_back_after_it(settings, monkeypatch):
    _pg_only()
    # given
    UserFactory(username="rina")
    ContactFactory(external_id="c-1")
    taken = _force_bulk(monkeypatch, settings, True)
    before = {table: _schema(table) for table in ("deals_deal", "deals_dealchange")}
    during = {}
    load = fast.DealPlan.load

    def spy(self, low, high, result):
        during.update({table: _schema(table) for table in before})
        return load(self, low, high, result)

    monkeypatch.setattr(fast.DealPlan, "load", spy)
    text = (
        "external_id,contact_external_id,stage,amount,created_at,owner\n"
        "d-1,c-1,Qualification,100,2026-01-05,rina\n"
        "d-2,,Won,200,2026-01-05T10:00:00,\n"
    )

    # when
    result = import_records(kind="deals", stream=io.BytesIO(text.encode()))

    # then: both tables were bulk-loaded; during the load only the primary key and the
    # unique external_id were left; afterwards every index and foreign key is as before,
    # validated (ADD CONSTRAINT checked the rows)
    assert result.summary() == "created 2, updated 0, unchanged 0, rejected 0"
    assert taken == [["deals_deal", "deals_dealchange"]]
    assert _schema("deals_deal") == before["deals_deal"]
    assert _schema("deals_dealchange") == before["deals_dealchange"]
    deal_indexes, deal_keys = during["deals_deal"]
    assert [name for name, _ in deal_indexes] == [
        "deals_deal_external_id_key",
        "deals_deal_pkey",
    ]
    assert not any(definition.startswith("FOREIGN KEY") for _, definition, _ in deal_keys)
    assert len(before["deals_deal"][0]) == 11  # the 9 secondary indexes came back
    assert all(valid for _, _, valid in before["deals_deal"][1])
    # the deal history trigger still wrote one row per new deal
    assert DealChange.objects.filter(deal__external_id__in=["d-1", "d-2"]).count() == 2
    assert Deal.objects.get(external_id="d-1").owner.username == "rina"


def test_atomic_with_a_bad_row_leaves_the_table_and_its_indexes_as_they_were(settings, monkeypatch):
    _pg_only()
    # given
    ContactFactory(external_id="c-old", first_name="Lama")
    taken = _force_bulk(monkeypatch, settings, True)
    before = _schema("customers_contact")
    text = (
        "external_id,first_name,created_at\n"
        "c-old,Baru,2026-01-05\n"
        "c-1,Ani,2026-01-05\n"
        "c-2,Budi,not a date\n"
    )
    seen = []

    # when
    with transaction.atomic():
        result = import_records(
            kind="contacts",
            stream=io.BytesIO(text.encode()),
            atomic=True,
            on_rejection=lambda rejection, header: seen.append((rejection.line, rejection.reason)),
        )
        # then (inside the test's transaction, where the import's savepoint was rolled back)
        assert taken == [["customers_contact"]]
        assert result.summary() == "created 0, updated 0, unchanged 0, rejected 1"
        assert [(line, reason.split(" (")[0]) for line, reason in seen] == [
            (4, "created_at: not an ISO 8601 timestamp: 'not a date'")
        ]
        assert list(Contact.objects.values_list("external_id", "first_name")) == [("c-old", "Lama")]
        assert _schema("customers_contact") == before


def test_a_table_larger_than_the_file_keeps_its_indexes(settings):
    _pg_only()
    # given: three contacts stored, files of two and of three rows
    settings.WAWASAN_IMPORT_BULK = True
    for n in range(3):
        ContactFactory(external_id=f"old-{n}")
    plan = fast.ContactPlan(fast.KINDS["contacts"], ["external_id", "created_at"])
    deals = fast.DealPlan(fast.KINDS["deals"], ["external_id", "stage", "amount", "created_at"])

    # when / then: a file as large as the table (or larger) takes it, a smaller one does not
    assert fast.bulk_tables(plan, 2) == []
    assert fast.bulk_tables(plan, 3) == ["customers_contact"]
    assert fast.bulk_tables(plan, 0) == []
    # deals and their history are judged each by its own size
    assert fast.bulk_tables(deals, 1) == ["deals_deal", "deals_dealchange"]
    settings.WAWASAN_IMPORT_BULK = False
    assert fast.bulk_tables(plan, 3) == []


def test_a_bulk_load_that_updates_counts_created_updated_and_unchanged(settings, monkeypatch):
    """The new keys are inserted without ON CONFLICT, the stored ones upserted: the counts
    and the identity change log are those of the portable path."""
    _pg_only()
    # given: one stored contact that the file changes, one it repeats unchanged
    stamp = datetime(2026, 1, 4, 17, tzinfo=UTC)  # 2026-01-05 00:00 in Asia/Jakarta
    ContactFactory(external_id="c-1", first_name="Lama", created_at=stamp, last_name="")
    ContactFactory(external_id="c-2", first_name="Sama", created_at=stamp, last_name="")
    taken = _force_bulk(monkeypatch, settings, True)
    lines = ["external_id,first_name,last_name,created_at", "c-1,Baru,,2026-01-05"]
    lines += ["c-2,Sama,,2026-01-05"] + [f"n-{n},Ani,,2026-01-05" for n in range(5)]
    text = "\n".join(lines) + "\n"

    # when
    result = import_records(kind="contacts", stream=io.BytesIO(text.encode()))

    # then
    assert taken == [["customers_contact"]]
    assert result.summary() == "created 5, updated 1, unchanged 1, rejected 0"
    assert Contact.objects.get(external_id="c-1").first_name == "Baru"
    assert Contact.objects.count() == 7


@pytest.mark.parametrize(
    "cell",
    [
        "a",
        " a ",
        "\ta b\u00a0",
        "\u3000x\u2028",
        "",
        "é",
        " é ",
        "x\x1f",
        "\x85y",
        "~",
        "!x!",
        "\x7fz",
        "é\u2003",
        "  ",
    ],
)
def test_the_sql_trim_is_python_strip(cell):
    _pg_only()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fast.trim_sql('%s::text')}", [cell] * 4)
        assert cursor.fetchone()[0] == cell.strip()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {fast.trim_sql('NULL::text')}")
        assert cursor.fetchone()[0] == ""


@pytest.mark.django_db(transaction=True)
def test_the_import_page_shows_progress_in_rows_during_a_bulk_load(settings, monkeypatch, tmp_path):
    """A bulk load is one transaction; the job's row count is written through a connection of
    its own, so the page (another connection) sees it grow while the load runs."""
    _pg_only()
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import DEFAULT_DB_ALIAS, connections

    from audit.models import ImportJob
    from imports import jobs as import_jobs

    # given: a superuser's confirmed job of 6 contacts, batches of 2, progress every row
    settings.WAWASAN_IMPORT_DIR = tmp_path
    taken = _force_bulk(monkeypatch, settings, True)
    monkeypatch.setattr(fast, "FAST_BATCH", 2)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY_ROWS", 1)
    user = UserFactory(is_staff=True, is_superuser=True)
    rows = "".join(f"c-{n},Ani,2026-01-05\n" for n in range(6))
    upload = SimpleUploadedFile("c.csv", ("external_id,first_name,created_at\n" + rows).encode())
    job = import_jobs.import_job_create(user=user, kind="contacts", upload=upload)
    ImportJob.objects.filter(pk=job.pk).update(dry_run=False)
    seen_by_the_page: list[int] = []
    load = fast.ContactPlan.load

    def spy(self, low, high, result):
        page = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with page.cursor() as cursor:
                cursor.execute("SELECT rows_done FROM audit_importjob WHERE id = %s", [job.pk])
                seen_by_the_page.append(cursor.fetchone()[0])
        finally:
            page.close()
        return load(self, low, high, result)

    monkeypatch.setattr(fast.ContactPlan, "load", spy)

    # when
    done = import_jobs.import_job_run(job_id=job.pk)

    # then: a bulk load, and before each batch the page saw the rows of the ones before
    assert taken == [["customers_contact"]]
    assert done.status == ImportJob.Status.DONE
    assert (done.created, done.rows_done) == (6, 6)
    assert seen_by_the_page == [0, 2, 4]
    assert not fast.bulk_load_running()


def test_a_role_that_does_not_own_the_table_loads_without_the_bulk_load(settings, monkeypatch):
    """DROP INDEX needs the table's owner: a role with every other right on the tables gets
    the same load with the indexes kept (the refused savepoint is rolled back)."""
    _pg_only()
    # given: a role that may read and write every table but owns none (rolled back with the
    # test's transaction, like everything else here)
    ContactFactory(external_id="c-old", first_name="Lama")
    taken = _force_bulk(monkeypatch, settings, True)
    before = _schema("customers_contact")
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE wawasan_test_writer")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO wawasan_test_writer")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO wawasan_test_writer")
        cursor.execute("SET ROLE wawasan_test_writer")
    text = "external_id,first_name,created_at\nc-old,Baru,2026-01-05\nc-1,Ani,2026-01-05\n"

    # when
    result = import_records(kind="contacts", stream=io.BytesIO(text.encode()))

    # then: the bulk load was asked for, refused, and the load is whole
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    assert taken == [["customers_contact"]]
    assert result.summary() == "created 1, updated 1, unchanged 0, rejected 0"
    assert sorted(Contact.objects.values_list("external_id", "first_name")) == [
        ("c-1", "Ani"),
        ("c-old", "Baru"),
    ]
    assert _schema("customers_contact") == before
