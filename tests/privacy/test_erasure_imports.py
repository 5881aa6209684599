"""Issue 27 item 2: an erasure reaches import jobs, saved segments and other people's text.

The attack: a contact in a dry run's file, erased, came back when the dry run was confirmed;
its name, email and phone stayed downloadable in the job's rejected.csv.
"""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import ImportJob
from customers.models import Customer
from deals.models import Deal
from imports import jobs as import_jobs
from insights.models import Segment
from insights.rebuild import insights_rebuild
from privacy.erasure import customer_erase
from tests.factories import ContactFactory, DealFactory, UserFactory
from tests.insights.build import at
from tests.privacy.test_erasure_traces import HER, _where_found

pytestmark = pytest.mark.django_db

FILE = (
    "external_id,first_name,last_name,email,phone,created_at\n"
    "c-nur,Nur,Nasution,nur.nasution2526@gmail.com,0812-3456-7890,2026-01-05T09:00:00\n"
    "c-nur2,Nur,Nasution,,+62 812 3456 7890,not-a-date\n"
    "c-budi,Budi,Santoso,budi@contoh.id,,not-a-date\n"
    "c-citra,Citra,Lestari,citra@contoh.id,,2026-01-05T09:00:00\n"
)


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.WAWASAN_IMPORT_DIR = tmp_path


@pytest.fixture
def boss():
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


def _dry_run(user, text: str = FILE) -> ImportJob:
    upload = SimpleUploadedFile("contacts.csv", text.encode())
    job = import_jobs.import_job_create(user=user, kind="contacts", upload=upload)
    return import_jobs.import_job_run(job_id=job.pk)


def _nur() -> Customer:
    contact = ContactFactory(
        external_id="c-nur",
        first_name="Nur",
        last_name="Nasution",
        email="nur.nasution2526@gmail.com",
        phone="0812-3456-7890",
        created_at=at("2026-01-05"),
    )
    insights_rebuild(trigger="test")
    return Customer.objects.get(contacts=contact)


def test_an_erasure_reaches_a_dry_runs_file_rejected_rows_and_first_rejections(client, boss):
    # given: a dry run naming her (one good row, one rejected), then she is in the CRM
    dry_run = _dry_run(boss)
    assert (dry_run.created, dry_run.rejected) == (2, 2)
    customer = _nur()

    # when
    erasure = customer_erase(customer=customer, erased_by=boss)

    # then: the upload that named her is gone, and the dry run can no longer bring her back
    dry_run.refresh_from_db()
    assert dry_run.erased_at is not None
    assert not Path(dry_run.path).exists()
    with pytest.raises(import_jobs.ImportJobError, match="erased"):
        import_jobs.import_job_confirm(job=dry_run, user=boss)
    client.force_login(boss)
    page = client.get(f"/admin/import/{dry_run.pk}/").content.decode()
    assert 'id="import-confirm"' not in page
    # her rejected row left the file and the first rejected lines; Budi's stayed
    assert [r["line"] for r in dry_run.first_rejections] == [4]
    response = client.get(f"/admin/import/{dry_run.pk}/rejected.csv")
    rejected = b"".join(response.streaming_content).decode()
    assert "Budi" in rejected
    assert "Nasution" not in rejected and "3456" not in rejected
    assert _where_found(HER) == []
    counts = erasure.record.counts
    assert counts["import_jobs_reached"] == 1
    assert counts["import_uploads_removed"] == 1
    assert counts["import_rejected_rows_removed"] == 1


def test_a_file_that_does_not_name_her_stays_confirmable(boss):
    # given: a dry run of other people only
    dry_run = _dry_run(boss, "\n".join(FILE.splitlines()[:1] + FILE.splitlines()[3:]) + "\n")
    customer = _nur()

    # when
    customer_erase(customer=customer, erased_by=boss)

    # then
    dry_run.refresh_from_db()
    assert dry_run.erased_at is None
    assert import_jobs.import_job_confirm(job=dry_run, user=boss).confirms == dry_run


def test_an_erasure_reaches_segment_names_and_other_peoples_deal_text(boss):
    # given: a segment and another rep's deal that name her by email and phone
    customer = _nur()
    Segment.objects.create(name="Follow nur.nasution2526@gmail.com", owner=boss)
    Segment.objects.create(name="Budi's friends", owner=boss, filters={"search": "0812-3456-7890"})
    theirs = DealFactory(name="Call Nur back on 0812-3456-7890", owner=boss)
    other = DealFactory(name="Budi renewal")

    # when
    erasure = customer_erase(customer=customer, erased_by=boss)

    # then
    assert sorted(Segment.objects.values_list("name", flat=True)) == [
        "Budi's friends",
        "Follow [erased]",
    ]
    assert Segment.objects.get(name="Budi's friends").filters == {"search": "[erased]"}
    assert Deal.objects.get(pk=theirs.pk).name == "Call Nur back on [erased]"
    assert Deal.objects.get(pk=other.pk).name == "Budi renewal"
    assert erasure.record.counts["segments_redacted"] == 2
    assert erasure.record.counts["free_text_redacted"] == 1
    assert _where_found(HER) == []
