"""The admin's Import CSV page: permission per kind, dry run, confirm, rejected rows, big files."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import ImportJob
from customers.models import Company
from imports import jobs as import_jobs
from tests.factories import CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/import/"
GOOD_AND_BAD = (
    "external_id,name,industry,created_at\n"
    "co-1,PT Maju,Retail,2026-01-05T09:00:00\n"
    "co-2,PT Jaya,,2026-01-06T09:00:00\n"
    "co-3,,Retail,2026-01-07T09:00:00\n"
    "co-4,CV Baru,,not-a-date\n"
)


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.WAWASAN_IMPORT_DIR = tmp_path


def _user(client, *codenames: str):
    user = UserFactory(is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return user


def _upload(client, kind: str, text: str, name: str = "companies.csv"):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(URL, {"kind": kind, "file": upload})


def test_page_offers_only_the_kinds_the_user_may_load(client):
    # given
    _user(client, "add_company", "change_company", "add_contact")  # contacts lacks change

    # when
    html = client.get(URL).content.decode()

    # then
    assert '<option value="companies">' in html
    assert '<option value="contacts">' not in html


def test_without_any_import_permission_the_page_is_forbidden(client):
    # given
    _user(client, "view_company")

    # when / then
    assert client.get(URL).status_code == 403


def test_dry_run_counts_and_saves_nothing_then_confirm_loads_the_good_rows(client):
    # given
    _user(client, "add_company", "change_company")
    CompanyFactory(external_id="co-2", name="PT Jaya", industry="")

    # when: the dry run
    response = _upload(client, "companies", GOOD_AND_BAD)

    # then
    dry_run = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/import/{dry_run.pk}/"
    assert (dry_run.status, dry_run.dry_run) == ("done", True)
    assert (dry_run.created, dry_run.updated, dry_run.rejected) == (1, 1, 2)
    assert [r["line"] for r in dry_run.first_rejections] == [4, 5]
    assert "name" in dry_run.first_rejections[0]["reason"]
    assert Company.objects.count() == 1  # nothing saved
    page = client.get(response["Location"]).content.decode()
    assert "dry run: nothing was saved" in page
    assert 'id="import-confirm"' in page
    assert "<td>4</td>" in page and "<td>5</td>" in page  # the first rejected lines

    # when: the rejected rows
    rejected = client.get(f"/admin/import/{dry_run.pk}/rejected.csv")
    text = b"".join(rejected.streaming_content).decode()

    # then
    assert rejected.status_code == 200
    assert text.splitlines()[0] == "external_id,name,industry,created_at,reason"
    assert text.splitlines()[1].startswith("co-3,,Retail,")

    # when: confirm
    confirmed = client.post(f"/admin/import/{dry_run.pk}/confirm/")

    # then
    job = ImportJob.objects.get(dry_run=False)
    assert confirmed["Location"] == f"/admin/import/{job.pk}/"
    assert (job.status, job.created, job.updated, job.rejected) == ("done", 1, 1, 2)
    assert job.confirms == dry_run
    assert sorted(Company.objects.values_list("external_id", "name")) == [
        ("co-1", "PT Maju"),
        ("co-2", "PT Jaya"),
    ]
    # a dry run is confirmed once
    again = client.get(f"/admin/import/{dry_run.pk}/").content.decode()
    assert 'id="import-confirm"' not in again


def test_a_file_missing_a_required_column_is_refused_whole(client):
    # given
    _user(client, "add_company", "change_company")

    # when
    _upload(client, "companies", "external_id,industry\nco-1,Retail\n")

    # then
    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert "missing required column(s): name" in job.error
    assert "The file was refused" in client.get(f"/admin/import/{job.pk}/").content.decode()


def test_large_files_go_to_the_celery_task(client, monkeypatch):
    # given: any file counts as large
    _user(client, "add_company", "change_company")
    monkeypatch.setattr(import_jobs, "INLINE_MAX_BYTES", 10)

    # when
    with mock.patch("imports.tasks.run_import_job.delay") as delay:
        _upload(client, "companies", GOOD_AND_BAD)

    # then: queued, and the page refreshes while it waits
    job = ImportJob.objects.get()
    delay.assert_called_once_with(job.pk)
    page = client.get(f"/admin/import/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "rows read so far" in page


def test_the_task_runs_the_job_and_progress_is_committed_as_it_goes(client, monkeypatch):
    # given: a confirmed job of 30 rows
    user = _user(client, "add_company", "change_company")
    rows = "".join(f"co-{n},PT {n},,2026-01-05T09:00:00\n" for n in range(30))
    upload = SimpleUploadedFile(
        "big.csv", ("external_id,name,industry,created_at\n" + rows).encode()
    )
    dry_run = import_jobs.import_job_run(
        job_id=import_jobs.import_job_create(user=user, kind="companies", upload=upload).pk
    )
    job = import_jobs.import_job_confirm(job=dry_run, user=user)
    monkeypatch.setattr(import_jobs, "PROGRESS_EVERY_ROWS", 2)

    # when: a batch of 3 rows is reported
    import_jobs._Progress(job)(3)

    # then: visible to the page before the job ends
    assert ImportJob.objects.get(pk=job.pk).rows_done == 3

    # when: the worker runs it
    from imports.tasks import run_import_job

    result = run_import_job(job.pk)

    # then
    assert result == {"job_id": job.pk, "status": "done"}
    assert ImportJob.objects.get(pk=job.pk).rows_done == 30
    assert Company.objects.count() == 30


def test_other_users_jobs_are_not_visible(client):
    # given
    owner = _user(client, "add_company", "change_company")
    _upload(client, "companies", GOOD_AND_BAD)
    job = ImportJob.objects.get(user=owner)
    _user(client, "add_company", "change_company")

    # when / then
    assert client.get(f"/admin/import/{job.pk}/").status_code == 404
    assert client.get(f"/admin/import/{job.pk}/rejected.csv").status_code == 404
    assert client.post(f"/admin/import/{job.pk}/confirm/").status_code == 404


def test_index_links_the_import_page_for_those_who_may_import(client):
    # given
    _user(client, "add_company", "change_company", "view_company")

    # when
    html = client.get("/admin/").content.decode()

    # then
    assert 'href="/admin/import/"' in html
