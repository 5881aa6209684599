"""The admin customer list: columns without N+1, summary, save as segment, CSV export action,
and the segments page."""

import pytest
from django.contrib.auth.models import Permission

from audit.models import ExportRecord
from insights.models import Segment
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DealItemFactory,
    ProductFactory,
    UserFactory,
)
from tests.insights.build import deal, rebuild

pytestmark = pytest.mark.django_db
LIST = "/admin/customers/customer/"


@pytest.fixture
def shop():
    tablet = ProductFactory(external_id="TAB", name="Tablet Mesin Digital")
    made = []
    for n, city in enumerate(["Jakarta", "Jakarta", "Bandung"]):
        customer = CustomerFactory(
            display_name=f"Person {n}", primary_email=f"p{n}@x.id", city=city, country="ID"
        )
        contact = ContactFactory(customer=customer, created_at=customer.first_seen_at)
        won = deal(contact, created="2026-10-05", closed=f"2026-10-{10 + n}", outcome="won",
                   amount=str(100 * (n + 1)))  # fmt: skip
        DealItemFactory(deal=won, product=tablet)
        made.append(customer)
    rebuild()
    return made


def staff(*perms: str):
    user = UserFactory(is_staff=True)
    for codename in ("view_customer", *perms):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_columns_come_with_a_fixed_number_of_queries(
    shop, admin_client, django_assert_max_num_queries
):
    # when: three rows; the count must not grow with rows (stats joined, RFM read per page).
    # The sidebar's revenue bands (a count and the buyers' median) and saved segments add 3.
    with django_assert_max_num_queries(19):
        response = admin_client.get(
            LIST,
            {"ordering": "-lifetime_revenue", "rfm_start": "2026-10-01", "rfm_end": "2026-10-31"},
        )
    # then
    html = response.content.decode()
    rows = response.context["cl"].result_list
    assert [c.display_name for c in rows] == ["Person 2", "Person 1", "Person 0"]
    # money and dates in the reader's language, never broken (issue 32)
    assert "IDR\u00a0300<" in html and "Oct.\u00a012,\u00a02026" in html
    assert all(getattr(c, "rfm_segment_label", None) for c in rows)


def test_summary_and_link_back_to_the_dashboard_period(shop, admin_client):
    # when
    response = admin_client.get(
        LIST, {"product": "TAB", "start": "2026-10-01", "end": "2026-10-31", "city": "Jakarta"}
    )
    # then
    assert response.context["cl"].result_count == 2
    assert response.context["filter_summary"] == [
        "Bought Tablet Mesin Digital",
        "1–31 Oct 2026",
        "Jakarta",
    ]
    html = response.content.decode()
    assert "Bought Tablet Mesin Digital · 1–31 Oct 2026 · Jakarta" in html
    assert (
        "/admin/insights/dashboard/?preset=custom&amp;start=2026-10-01&amp;end=2026-10-31" in html
    )


def test_summary_in_bahasa_indonesia(shop, admin_client):
    response = admin_client.get(
        LIST, {"product": "TAB", "city": "Jakarta"}, HTTP_ACCEPT_LANGUAGE="id"
    )
    assert response.context["filter_summary"][0] == "Membeli Tablet Mesin Digital"


def test_save_as_segment_keeps_the_list_filters(shop, admin_client):
    # when
    response = admin_client.post(
        f"{LIST}save-segment/",
        {"name": "Jakarta tablet buyers", "filters": "product=TAB&city=Jakarta", "shared": "on"},
    )
    # then
    assert response.status_code == 302
    segment = Segment.objects.get()
    assert (segment.name, segment.shared) == ("Jakarta tablet buyers", True)
    assert segment.filters == {"product": "TAB", "city": "Jakarta"}
    assert admin_client.get(LIST, {"segment_id": segment.pk}).context["cl"].result_count == 2


def test_save_as_segment_refuses_a_bad_filter(shop, admin_client):
    admin_client.post(f"{LIST}save-segment/", {"name": "Bad", "filters": "country=Java"})
    assert not Segment.objects.exists()


def test_export_action_masks_and_records_like_the_api(shop, client):
    # given: staff without view_personal_data
    user = staff()
    client.force_login(user)
    # when: all filtered rows (Jakarta), through the action with "select across"
    response = client.post(
        f"{LIST}?city=Jakarta",
        {"action": "export_csv", "select_across": "1", "index": "0",
         "_selected_action": [shop[0].pk]},
    )  # fmt: skip
    # then
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 3  # header + 2 Jakarta customers
    assert "p0@x.id" not in body and "p***@x.id" in body
    record = ExportRecord.objects.get()
    assert (record.user, record.row_count) == (user, 2)


def test_export_action_of_selected_rows_only(shop, admin_client):
    response = admin_client.post(
        LIST, {"action": "export_csv", "index": "0", "_selected_action": [shop[2].pk]}
    )
    lines = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith(f"{shop[2].pk},")


def test_segments_page_counts_links_and_reports_a_broken_filter(shop, admin_client):
    # given
    owner = UserFactory()
    Segment.objects.create(name="Jakarta", owner=owner, shared=True, filters={"city": "Jakarta"})
    Segment.objects.create(name="Gone", owner=owner, shared=True, filters={"product": "OLD"})
    # when
    html = admin_client.get("/admin/insights/segment/").content.decode()
    # then
    assert "Jakarta" in html and f"{LIST}?segment_id=" in html
    assert "invalid saved filter" in html


def test_segments_page_shows_own_and_shared_and_edits_only_own(shop, client):
    # given
    me, other = staff("view_segment", "change_segment"), UserFactory()
    mine = Segment.objects.create(name="Mine", owner=me)
    shared = Segment.objects.create(name="Shared", owner=other, shared=True)
    Segment.objects.create(name="Private", owner=other)
    client.force_login(me)
    # when
    html = client.get("/admin/insights/segment/").content.decode()
    # then
    assert "Mine" in html and "Shared" in html and "Private" not in html
    assert (
        client.post(f"/admin/insights/segment/{shared.pk}/change/", {"name": "x"}).status_code
        == 403
    )
    changed = client.post(
        f"/admin/insights/segment/{mine.pk}/change/", {"name": "Renamed", "filters": "{}"}
    )
    assert changed.status_code == 302
    mine.refresh_from_db()
    assert mine.name == "Renamed"
