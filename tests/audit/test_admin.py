"""The export audit trail in admin: listed, never added or edited by hand."""

import pytest

from audit.models import ExportRecord, ImportJob
from audit.services import export_record_create
from tests.factories import UserFactory


@pytest.mark.django_db
def test_export_record_keeps_the_username_after_the_user_is_deleted():
    # given
    user = UserFactory(username="rina")
    record = export_record_create(
        user=user, endpoint="/api/v1/customers/", params={"source": "x"}, row_count=3, format="csv"
    )
    # when
    user.delete()
    record.refresh_from_db()
    # then
    assert (record.user, record.username, record.row_count) == (None, "rina", 3)


@pytest.mark.django_db
def test_admin_lists_exports_read_only(admin_client):
    # given
    export_record_create(
        user=None, endpoint="/api/v1/customers/", params={}, row_count=12, format="csv"
    )
    record = ExportRecord.objects.get()
    # when
    listing = admin_client.get("/admin/audit/exportrecord/")
    add = admin_client.get("/admin/audit/exportrecord/add/")
    change = admin_client.post(f"/admin/audit/exportrecord/{record.pk}/change/", {"row_count": 1})
    # then
    assert listing.status_code == 200
    assert "/api/v1/customers/" in listing.content.decode()
    assert add.status_code == 403
    record.refresh_from_db()
    assert record.row_count == 12
    assert change.status_code == 403


def test_import_jobs_are_listed_read_only(admin_client):
    # given
    ImportJob.objects.create(
        username="sari", kind="deals", file_name="deals.csv", path="/x", created=3, rejected=1
    )

    # when
    listing = admin_client.get("/admin/audit/importjob/")
    add = admin_client.get("/admin/audit/importjob/add/")

    # then
    html = listing.content.decode()
    assert listing.status_code == 200
    assert "deals.csv" in html and "sari" in html
    assert add.status_code == 403
