"""customers/: list, filters, search, 360° detail, merged ids, CSV export, query counts."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import ExportRecord
from customers.models import CustomerAlias
from deals.models import PipelineStage
from insights.periods import Period
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    StageFactory,
)

from .conftest import at, make_customer

LIST = "/api/v1/customers/"


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_list_row_shape_and_formats(api):
    # given
    alfa = CompanyFactory(name="PT Alfa")
    ani = make_customer(
        display_name="Ani",
        primary_email="ani@example.com",
        primary_phone="+6281234567890",
        source="Referral",
        company=alfa,
        record_count=2,
        revenue="37.5",
    )
    make_customer(display_name="Budi")
    # when
    body = api.get(LIST).json()
    # then
    assert body["count"] == 2
    assert body["results"][0] == {
        "id": ani.pk,
        "display_name": "Ani",
        "primary_email": "ani@example.com",
        "primary_phone": "+6281234567890",
        "source": "Referral",
        "company": {"id": alfa.pk, "name": "PT Alfa"},
        "first_seen_at": "2026-01-10T10:00:00+07:00",
        "record_count": 2,
        "lifetime_revenue": "37.50",
        "p_alive": None,
        "predicted_clv": None,
        "health": None,
        "health_band": None,
        "country": "Other",
        "city": "Other",
        "last_purchase": None,
        "rfm_segment": None,
    }
    assert body["results"][1]["company"] is None
    assert body["results"][1]["lifetime_revenue"] is None


@pytest.mark.django_db
def test_pagination_and_page_size_cap(api):
    # given
    made = [make_customer(display_name=f"C{n}").pk for n in range(5)]
    # when
    page2 = api.get(LIST, {"page_size": 2, "page": 2}).json()
    capped = api.get(LIST, {"page_size": 100000}).json()
    # then
    assert [row["id"] for row in page2["results"]] == made[2:4]
    assert page2["count"] == 5
    assert len(capped["results"]) == 5


@pytest.mark.django_db
def test_filters_by_source_company_first_seen_revenue(api):
    # given
    alfa = CompanyFactory(name="PT Alfa")
    a = make_customer(source="Referral", company=alfa, first_seen="2026-01-05", revenue="500")
    b = make_customer(source="WhatsApp", first_seen="2026-01-20", revenue="100")
    c = make_customer(source="Other", first_seen="2026-02-01")
    # when / then
    assert _ids(api.get(LIST, {"source": "Referral"})) == [a.pk]
    assert _ids(api.get(LIST, {"source": "Other"})) == [c.pk]
    assert _ids(api.get(LIST, {"company": str(alfa.pk)})) == [a.pk]
    assert _ids(api.get(LIST, {"company": "none"})) == [b.pk, c.pk]
    assert _ids(api.get(LIST, {"first_seen_from": "2026-01-06"})) == [b.pk, c.pk]
    assert _ids(api.get(LIST, {"first_seen_to": "2026-01-20"})) == [a.pk, b.pk]
    assert _ids(api.get(LIST, {"revenue_min": "100.00", "revenue_max": "499.99"})) == [b.pk]


@pytest.mark.django_db
def test_has_deals(api):
    # given
    with_deal, without = make_customer(), make_customer()
    DealFactory(contact=ContactFactory(customer=with_deal))
    ContactFactory(customer=without)
    # when / then
    assert _ids(api.get(LIST, {"has_deals": "yes"})) == [with_deal.pk]
    assert _ids(api.get(LIST, {"has_deals": "no"})) == [without.pk]


@pytest.mark.django_db
def test_segment_and_grid_cell_filters_use_the_rfm_period(api, monkeypatch):
    # given: the engine says customer b is the only Champion of January
    make_customer()
    b = make_customer()
    calls = []

    def rfm_customer_ids(*, period, group=None, r=None, f=None):
        calls.append((period, group, r, f))
        return [b.pk]

    monkeypatch.setattr("insights.queries.rfm_customer_ids", rfm_customer_ids)
    # when
    response = api.get(
        LIST, {"segment": "Champions", "rfm_start": "2026-01-01", "rfm_end": "2026-01-31"}
    )
    cell = api.get(LIST, {"r": "5", "f": "4", "rfm_start": "2026-01-01", "rfm_end": "2026-01-31"})
    # then
    january = Period(date(2026, 1, 1), date(2026, 1, 31))
    assert _ids(response) == [b.pk]
    assert _ids(cell) == [b.pk]
    assert calls == [(january, "Champions", None, None), (january, None, 5, 4)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["0812 3456 7890", "+62 812-3456-7890", "6281234567890", "(0812) 34567890"]
)
def test_search_finds_a_phone_written_in_any_format(api, query):
    # given
    ani = make_customer(display_name="Ani", primary_phone="+6281234567890")
    make_customer(display_name="Budi", primary_phone="+6281399998888")
    # when
    response = api.get(LIST, {"search": query})
    # then
    assert _ids(response) == [ani.pk]


@pytest.mark.django_db
def test_search_matches_member_records_email_and_names(api):
    # given: the customer's primary email differs from a member record's
    ani = make_customer(display_name="Ani Wijaya", primary_email="ani@example.com")
    ContactFactory(customer=ani, email="ani.w@kantor.co.id", phone="0812-1111-2222")
    ChatContactFactory(customer=ani, name="Mbak Ani", channel="Instagram")
    make_customer(display_name="Budi")
    # when / then
    assert _ids(api.get(LIST, {"search": " ANI.W@Kantor.co.id "})) == [ani.pk]
    assert _ids(api.get(LIST, {"search": "+62 812 1111 2222"})) == [ani.pk]
    assert _ids(api.get(LIST, {"search": "wijaya"})) == [ani.pk]
    assert _ids(api.get(LIST, {"search": "mbak"})) == [ani.pk]
    assert _ids(api.get(LIST, {"search": "nobody"})) == []


def _customer_with(n: int):
    """A customer with n CRM contacts (each a deal with two items) and n chat rooms."""
    person = make_customer(display_name=f"Holder of {n}", company=CompanyFactory(), revenue="1")
    won = StageFactory(name="Won", outcome=PipelineStage.Outcome.WON, default_win_probability=100)
    for _ in range(n):
        contact = ContactFactory(customer=person, company=CompanyFactory())
        deal = DealFactory(contact=contact, stage=won, closed_at=at("2026-01-12"))
        DealItemFactory.create_batch(2, deal=deal)
        ChatRoomFactory(chat_contact=ChatContactFactory(customer=person))
    return person


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_rows(api):
    # given
    for _ in range(2):
        _customer_with(1)
    few = _count_queries(api, LIST)
    for _ in range(8):
        _customer_with(1)
    # when
    many = _count_queries(api, LIST)
    csv_many = _count_queries(api, LIST + "?format=csv")
    # then: no query per row. On PostgreSQL a tiny table can take one more (the list reads the
    # planner's row estimate, which autovacuum may not have set yet for two customers).
    assert many <= few
    assert csv_many <= many + 2


@pytest.mark.django_db
def test_detail_query_count_does_not_grow_with_records(api):
    # given
    small, big = _customer_with(2), _customer_with(10)
    # when
    small_count = _count_queries(api, f"{LIST}{small.pk}/?preset=this_year")
    big_count = _count_queries(api, f"{LIST}{big.pk}/?preset=this_year")
    # then
    assert small_count == big_count


@pytest.mark.django_db
def test_detail_is_the_360_view(api):
    # given
    alfa = CompanyFactory(name="PT Alfa")
    ani = make_customer(display_name="Ani", company=alfa, record_count=2, revenue="450.50")
    crm = ContactFactory(
        customer=ani,
        first_name="Ani",
        last_name="W",
        company=alfa,
        phone="0812 3456 7890",
        source="Referral",
        created_at=at("2026-01-10"),
    )
    chat = ChatContactFactory(
        customer=ani, name="Ani", phone="+6281234567890", created_at=at("2026-01-10")
    )
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    proposal = StageFactory(name="Proposal", outcome="open", default_win_probability=50)
    deal = DealFactory(
        contact=crm,
        stage=won,
        amount=Decimal("450.50"),
        created_at=at("2026-01-11"),
        closed_at=at("2026-01-12"),
    )
    DealItemFactory(deal=deal, quantity=Decimal("1.5"), unit_price=Decimal("300.33"))
    DealFactory(contact=crm, stage=proposal, win_probability=100, created_at=at("2026-01-13"),
                expected_close_at=at("2026-02-01"))  # fmt: skip
    room = ChatRoomFactory(chat_contact=chat, created_at=at("2026-01-14"), csat_score=5)
    # when
    body = api.get(f"{LIST}{ani.pk}/", {"start": "2026-01-01", "end": "2026-01-31"}).json()
    # then
    assert body["lifetime_revenue"] == "450.50"
    assert [(r["kind"], r["id"]) for r in body["records"]] == [
        ("contact", crm.pk),
        ("chat_contact", chat.pk),
    ]
    assert body["records"][0]["phone_key"] == "+6281234567890"
    assert body["records"][0]["company"] == {"id": alfa.pk, "name": "PT Alfa"}
    assert [(d["id"], d["status"]) for d in body["deals"]][1] == (deal.pk, "won")
    assert body["deals"][0]["status"] == "won"  # probability 100 on an open stage
    assert body["deals"][1]["items"][0]["quantity"] == "1.50"
    assert body["deals"][1]["items"][0]["revenue"] == "450.50"
    assert body["deals"][1]["amount"] == "450.50"
    assert body["deals"][0]["expected_close_at"] == "2026-02-01T10:00:00+07:00"
    assert body["deals"][1]["expected_close_at"] is None
    assert body["chat_rooms"] == [
        {
            "id": room.pk,
            "external_id": room.external_id,
            "chat_contact_id": chat.pk,
            "channel": "WhatsApp",
            "created_at": "2026-01-14T10:00:00+07:00",
            "resolved_at": None,
            "agent": "",
            "csat_score": 5,
            "first_response_at": None,
            "first_response_s": None,
            "resolution_s": None,
        }
    ]
    assert body["survey_responses"] == []
    assert body["rfm"]["period"] == {
        "start": "2026-01-01",
        "end": "2026-01-31",
        "preset": None,
        "months": "1.0000",
        "granularity": None,
    }
    assert set(body["rfm"]) == {
        "period",
        "recency_days",
        "frequency",
        "monetary",
        "r",
        "f",
        "m",
        "segment",
    }
    assert isinstance(body["explanation"], list)


@pytest.mark.django_db
def test_detail_rfm_scores_come_from_the_engine(api, monkeypatch):
    # given
    from insights.queries import CustomerRfm

    ani = make_customer(display_name="Ani")
    scores = CustomerRfm(ani.pk, 19, 2, Decimal("450.5"), 5, 4, 5, "Champions")
    monkeypatch.setattr(
        "insights.queries.rfm_for_customers",
        lambda *, period, customer_ids: {ani.pk: scores},
    )
    # when
    rfm = api.get(f"{LIST}{ani.pk}/").json()["rfm"]
    # then: default period last_30_days, as on the insights endpoints
    assert rfm["period"]["preset"] == "last_30_days"
    assert {k: v for k, v in rfm.items() if k != "period"} == {
        "recency_days": 19,
        "frequency": 2,
        "monetary": "450.50",
        "r": 5,
        "f": 4,
        "m": 5,
        "segment": "Champions",
    }


@pytest.mark.django_db
def test_merged_away_id_redirects_to_the_survivor(api):
    # given
    survivor = make_customer(display_name="Ani")
    CustomerAlias.objects.create(alias_id=survivor.pk + 1000, customer=survivor)
    # when
    response = api.get(f"{LIST}{survivor.pk + 1000}/?preset=this_year")
    # then
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{LIST}{survivor.pk}/?preset=this_year"
    assert response.json()["merged_into"] == survivor.pk
    assert api.get(response["Location"]).json()["id"] == survivor.pk


@pytest.mark.django_db
def test_unknown_id_is_404(api):
    # when
    response = api.get(f"{LIST}424242/")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "No such customer."}


def _csv_rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.django_db
def test_csv_export_is_exactly_the_filtered_list_and_is_recorded(api, viewer):
    # given
    kept = [make_customer(source="Referral", display_name=f"R{n}") for n in range(3)]
    make_customer(source="WhatsApp")
    listed = _ids(api.get(LIST, {"source": "Referral", "page_size": 1}))  # one page only
    # when
    response = api.get(LIST, {"source": "Referral", "format": "csv", "page_size": 1})
    rows = _csv_rows(response)
    # then: every filtered row, not the page, in list order
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="customers-')
    assert rows[0] == [
        "id",
        "display_name",
        "primary_email",
        "primary_phone",
        "source",
        "company_id",
        "company_name",
        "first_seen_at",
        "record_count",
        "lifetime_revenue",
        "country",
        "city",
        "last_purchase",
        "p_alive",
        "predicted_clv",
    ]
    assert [int(row[0]) for row in rows[1:]] == [c.pk for c in kept]
    assert listed == [kept[0].pk]
    record = ExportRecord.objects.get()
    assert (record.user, record.username, record.row_count, record.format) == (
        viewer,
        "viewer",
        3,
        "csv",
    )
    assert record.params == {"source": "Referral", "format": "csv", "page_size": "1"}
    assert record.endpoint == LIST


@pytest.mark.django_db
def test_csv_neutralises_spreadsheet_formulas_and_formats_values(api):
    # given
    make_customer(
        display_name='=HYPERLINK("http://evil")',
        primary_email="@SUM(A1)",
        primary_phone="+6281234567890",
        source="-2+3",
        revenue="1234.5",
    )
    # when
    rows = _csv_rows(api.get(LIST, {"format": "csv"}))
    # then
    assert rows[1][1:5] == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)", "'+6281234567890", "'-2+3"]
    assert rows[1][7] == "2026-01-10T10:00:00+07:00"
    assert rows[1][9] == "1234.50"


@pytest.mark.django_db
def test_csv_with_a_bad_filter_is_a_json_400_and_not_recorded(api):
    # when
    response = api.get(LIST, {"format": "csv", "has_deals": "maybe"})
    # then
    assert response.status_code == 400
    assert "has_deals" in response.json()["errors"]
    assert not ExportRecord.objects.exists()
