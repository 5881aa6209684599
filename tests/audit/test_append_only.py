"""Issue 27 item 23: audit records are append-only in the admin, for a superuser too."""

import pytest

from audit.models import ErasureRecord, ExportRecord
from audit.services import export_record_create


@pytest.mark.django_db
def test_a_superuser_cannot_delete_an_export_record(admin_client):
    # given: admin_client is a superuser
    record = export_record_create(
        user=None, endpoint="/api/v1/customers/", params={}, row_count=12, format="csv"
    )
    # when: the delete page, its POST, and the list's bulk "delete selected" action
    page = admin_client.get(f"/admin/audit/exportrecord/{record.pk}/delete/")
    posted = admin_client.post(f"/admin/audit/exportrecord/{record.pk}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/audit/exportrecord/",
        {"action": "delete_selected", "_selected_action": [record.pk], "post": "yes"},
    )
    listing = admin_client.get("/admin/audit/exportrecord/")
    # then
    assert page.status_code == 403 and posted.status_code == 403
    assert bulk.status_code in (200, 302)
    assert ExportRecord.objects.filter(pk=record.pk).exists()
    assert "delete_selected" not in listing.content.decode()


@pytest.mark.django_db
def test_a_superuser_cannot_delete_an_erasure_record(admin_client):
    record = ErasureRecord.objects.create(username="sari", customer_id=7, counts={})
    posted = admin_client.post(f"/admin/audit/erasurerecord/{record.pk}/delete/", {"post": "yes"})
    assert posted.status_code == 403
    assert ErasureRecord.objects.filter(pk=record.pk).exists()
