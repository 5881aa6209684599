"""Issue 27 items 6, 8, 9, 16 and 22 on the Import CSV page: locks, size and retention,
confirm once, one rule for non-UTF-8 rows, and every kind of the importer."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from audit.models import ImportJob
from chats.models import SurveyResponse
from customers.models import Company
from deals.models import Deal
from imports import driver
from imports import jobs as import_jobs
from imports.kinds import KINDS, Kind
from tests.factories import ChatContactFactory, DealFactory, StageFactory, UserFactory

URL = "/admin/import/"
COMPANIES = "external_id,name,industry,created_at\nco-1,PT Maju,Retail,2026-01-05T09:00:00\n"


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.WAWASAN_IMPORT_DIR = tmp_path


def _staff(client=None, *codenames: str, **fields):
    user = UserFactory(is_staff=True, **fields)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    if client is not None:
        client.force_login(user)
    return user


def _upload(client, kind: str, content: bytes, name: str = "file.csv"):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    return client.post(URL, {"kind": kind, "file": upload})


def _dry_run(user, kind: str = "companies", text: str = COMPANIES) -> ImportJob:
    upload = SimpleUploadedFile("f.csv", text.encode())
    job = import_jobs.import_job_create(user=user, kind=kind, upload=upload)
    return import_jobs.import_job_run(job_id=job.pk)


# --- Item 9: a dry run is confirmed once, and only by the person who ran it -------------------


@pytest.mark.django_db
def test_a_dry_run_is_confirmed_once_the_view_refuses_the_second(client):
    # given: a confirmed dry run
    _staff(client, "add_company", "change_company")
    _upload(client, "companies", COMPANIES.encode())
    dry_run = ImportJob.objects.get()
    client.post(f"{URL}{dry_run.pk}/confirm/")
    Company.objects.all().delete()

    # when: the same confirmation posted again
    response = client.post(f"{URL}{dry_run.pk}/confirm/", follow=True)

    # then: refused, nothing loaded again, one import
    assert ImportJob.objects.filter(dry_run=False).count() == 1
    assert not Company.objects.exists()
    assert "already confirmed" in response.content.decode()
    assert 'id="import-confirm"' not in response.content.decode()


@pytest.mark.django_db
def test_only_the_person_who_ran_the_dry_run_may_confirm_it(client):
    # given: Rita's dry run; a superuser
    rita = _staff(None, "add_company", "change_company")
    dry_run = _dry_run(rita)
    _staff(client, is_superuser=True)

    # when
    page = client.get(f"{URL}{dry_run.pk}/").content.decode()
    client.post(f"{URL}{dry_run.pk}/confirm/")

    # then
    assert 'id="import-confirm"' not in page
    assert not ImportJob.objects.filter(dry_run=False).exists()


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_at_once_make_one_import():
    # given
    rita = _staff(None, "add_company", "change_company")
    dry_run = _dry_run(rita)
    results: list[object] = []

    def confirm() -> None:
        try:
            results.append(import_jobs.import_job_confirm(job=dry_run, user=rita))
        except import_jobs.ImportJobError as error:
            results.append(error)
        except OperationalError as error:
            # SQLite's shared in-memory test database answers "table is locked" at once,
            # where a database file waits for the first commit: refused all the same.
            assert connection.vendor == "sqlite"
            results.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert ImportJob.objects.filter(confirms=dry_run).count() == 1
    assert sum(isinstance(r, ImportJob) for r in results) == 1
    assert len(results) == 2


# --- Item 8: a size limit, and files that do not stay -----------------------------------------


@pytest.mark.django_db
def test_an_upload_above_the_limit_is_refused_with_its_size(client, settings, tmp_path):
    # given: a 2 MB limit
    settings.WAWASAN_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    _staff(client, "add_company", "change_company")
    big = COMPANIES.encode() + b"x" * (3 * 1024 * 1024)

    # when
    response = _upload(client, "companies", big)

    # then: the form says why, no job, nothing kept on disk
    html = response.content.decode()
    assert response.status_code == 200
    assert "The file is 3.0 MB; the limit is 2.0 MB." in html
    assert not ImportJob.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_default_limit_is_50_mb(settings):
    del settings.WAWASAN_IMPORT_MAX_BYTES
    assert import_jobs.max_upload_bytes() == 50 * 1024 * 1024
    assert import_jobs.upload_too_large(50 * 1024 * 1024) is None
    assert import_jobs.upload_too_large(50 * 1024 * 1024 + 1) is not None


@pytest.mark.django_db
def test_files_go_when_the_import_is_done_or_failed_and_at_expiry():
    # given: a confirmed import, a failed dry run, and a dry run waiting for confirmation
    rita = _staff(None, "add_company", "change_company")
    confirmed = _dry_run(rita)
    done = import_jobs.import_job_run(
        job_id=import_jobs.import_job_confirm(job=confirmed, user=rita).pk
    )
    failed = _dry_run(rita, text="external_id\nco-9\n")
    waiting = _dry_run(rita, text=COMPANIES.replace("PT Maju", "PT Lain") + "co-2,,x,\n")

    # then: the finished and the failed job's uploads are gone; the waiting one is kept
    assert (done.status, failed.status) == ("done", "failed")
    assert not Path(done.path).exists()
    assert not Path(failed.path).exists()
    assert Path(waiting.path).exists() and Path(waiting.rejected_path).exists()

    # when: 6 days on, then 8 days on (retention 7 days)
    assert import_jobs.import_files_cleanup(now=timezone.now() + timedelta(days=6)) == 0
    removed = import_jobs.import_files_cleanup(now=timezone.now() + timedelta(days=8))

    # then
    assert removed == 2
    assert not Path(waiting.path).exists() and not Path(waiting.rejected_path).exists()
    with pytest.raises(import_jobs.ImportJobError, match="no longer kept"):
        import_jobs.import_job_confirm(job=waiting, user=rita)


@pytest.mark.django_db
def test_the_cleanup_command_and_retention_setting(settings):
    # given: a dry run 2 days old, retention 1 day
    settings.WAWASAN_IMPORT_RETENTION_DAYS = 1
    job = _dry_run(_staff(None, "add_company", "change_company"))
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(days=2))

    # when
    call_command("import_cleanup", stdout=(out := __import__("io").StringIO()))

    # then
    assert not Path(job.path).exists()
    assert "removed 1 file(s) older than 1 day(s)" in out.getvalue()


@pytest.mark.django_db
def test_a_periodic_task_removes_old_files():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.get(task="imports.import_files_cleanup").enabled


# --- Item 16: one non-UTF-8 row is rejected alone, as by the command ---------------------------


@pytest.mark.django_db
def test_the_page_rejects_only_the_row_that_is_not_utf8(client):
    # given: a BOM, a good row, a Latin-1 row, a good row
    _staff(client, "add_company", "change_company")
    content = (
        b"\xef\xbb\xbfexternal_id,name,industry,created_at\n"
        b"co-1,PT Maju,,2026-01-05T09:00:00\n"
        b"co-2,Caf\xe9 Jaya,,2026-01-05T09:00:00\n"
        b"co-3,PT Baru,,2026-01-05T09:00:00\n"
    )

    # when
    _upload(client, "companies", content)

    # then
    job = ImportJob.objects.get()
    assert (job.status, job.created, job.rejected) == ("done", 2, 1)
    assert job.first_rejections == [{"line": 3, "reason": "not UTF-8"}]


# --- Item 22: every kind of the importer, and any added later -----------------------------------


@pytest.mark.django_db
def test_the_page_offers_every_kind_and_loads_survey_responses(client):
    # given
    _staff(client, is_superuser=True)
    ChatContactFactory(external_id="cc-1")

    # when
    html = client.get(URL).content.decode()
    _upload(
        client,
        "survey_responses",
        b"external_id,kind,score,chat_contact_external_id,created_at\n"
        b"sr-1,nps,9,cc-1,2026-01-05T09:00:00\n",
    )
    client.post(f"{URL}{ImportJob.objects.get().pk}/confirm/")

    # then
    for kind in KINDS:
        assert f'<option value="{kind}">' in html
    assert SurveyResponse.objects.get().external_id == "sr-1"


@pytest.mark.django_db
def test_a_kind_added_to_the_importer_appears_on_the_page(client, monkeypatch):
    # given: a new kind, as the importer may add
    companies = KINDS["companies"]
    fields = ("required", "optional", "parse", "refs", "fields")
    extra = Kind("extra_companies", Company, *[getattr(companies, f) for f in fields])
    monkeypatch.setitem(KINDS, "extra_companies", extra)
    _staff(client, "add_company", "change_company")

    # when
    html = client.get(URL).content.decode()

    # then
    assert '<option value="extra_companies">Companies</option>' in html


# --- Item 6: a dry run holds row locks one batch at most -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_does_not_hold_locks_past_a_batch(monkeypatch):
    # given: two deals and a dry run that updates both, one per batch
    StageFactory(name="Proposal")
    DealFactory(external_id="d-1", amount=1)
    DealFactory(external_id="d-2", amount=1)
    boss = _staff(None, is_superuser=True)
    text = (
        "external_id,stage,amount,created_at\n"
        "d-1,Proposal,7,2026-01-05T09:00:00\n"
        "d-2,Proposal,7,2026-01-05T09:00:00\n"
    )
    monkeypatch.setattr(driver, "BATCH_SIZE", 1)
    monkeypatch.setattr(import_jobs, "import_records", _batches_of_one(driver.import_records))
    seen: list[object] = []

    def other_session_updates_d1() -> None:
        # Another writer, while the dry run reads its second batch.
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL lock_timeout = '1s'")
                Deal.objects.filter(external_id="d-1").update(name="edited elsewhere")
            seen.append("updated")
        except Exception as error:  # noqa: BLE001 - the test reports what the writer met
            seen.append(error)
        finally:
            connections.close_all()

    def progress_hook(rows: int) -> None:
        if not seen:
            # No transaction is open between batches of a dry run.
            seen.append(connection.in_atomic_block)
            if connection.vendor == "postgresql":
                writer = threading.Thread(target=other_session_updates_d1)
                writer.start()
                writer.join()

    monkeypatch.setattr(import_jobs, "_Progress", lambda job: _Counting(progress_hook))

    # when
    job = _dry_run(boss, kind="deals", text=text)

    # then: the writer was not blocked, and the dry run saved nothing
    assert job.updated == 2
    assert seen[0] is False
    if connection.vendor == "postgresql":
        assert seen[1] == "updated"
    assert sorted(Deal.objects.values_list("amount", flat=True)) == [1, 1]


class _Counting:
    def __init__(self, hook) -> None:
        self.hook, self.rows = hook, 0

    def __call__(self, rows: int) -> None:
        self.rows += rows
        self.hook(rows)


def _batches_of_one(import_records):
    def run(**kwargs):
        return import_records(batch_size=1, **kwargs)

    return run
