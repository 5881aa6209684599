"""Issue 13 item 3: no stored timestamp can turn a list into a 500.

The attack stored 0001-01-01 and 9999-12-31T23:59:59-12:00 through the importer, which now
refuses them; the database refuses them from any other writer too (common/timestamps.py).
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from customers.identity import snapshot_rebuild
from tests.factories import ChatRoomFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 12, tzinfo=UTC)


@pytest.mark.parametrize("moment", [YEAR_ONE, YEAR_9999])
def test_the_database_refuses_an_extreme_contact_time(moment):
    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(created_at=moment)


def test_extreme_deal_and_room_times_are_refused_too():
    with pytest.raises(IntegrityError), transaction.atomic():
        DealFactory(closed_at=YEAR_9999)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChatRoomFactory(resolved_at=YEAR_ONE)


def test_an_admin_form_gets_a_message_instead_of_a_crash():
    # given
    contact = ContactFactory.build(created_at=YEAR_ONE)

    # when / then: model validation (which admin forms run) names the constraint
    with pytest.raises(ValidationError):
        contact.full_clean()


def test_the_widest_allowed_times_list_fine(admin_client):
    # given: the contract's bounds as local times in Jakarta
    jakarta = ZoneInfo("Asia/Jakarta")
    ContactFactory(email="early@x.id", created_at=datetime(1900, 1, 1, tzinfo=jakarta))
    ContactFactory(email="late@x.id", created_at=datetime(2100, 12, 31, 23, 59, tzinfo=jakarta))
    snapshot_rebuild()

    # when
    pages = [
        admin_client.get("/admin/customers/contact/"),
        admin_client.get("/admin/customers/customer/"),
        admin_client.get("/api/v1/customers/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
