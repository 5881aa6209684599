"""The customer 360° admin page: records, deals, chats, timeline, revenue, RFM, aliases."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, CustomerAlias
from deals.models import PipelineStage
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    LostReasonFactory,
    ProductFactory,
    StageFactory,
    UserFactory,
)
from tests.insights.dashboard_fakes import FakeQueries

JAN = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)


def _url(pk: int) -> str:
    return f"/admin/insights/customer360/{pk}/"


@pytest.fixture
def fake(monkeypatch):
    return FakeQueries().install(monkeypatch)


@pytest.fixture
def viewer(client, db):
    # Also sees personal data; the masked page is tested in tests/accounts.
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_insights"),
        Permission.objects.get(codename="view_personal_data"),
    )
    client.force_login(user)
    return user


def _customer(**kwargs) -> Customer:
    values = {
        "first_seen_at": JAN,
        "first_seen_date": date(2026, 1, 10),
        "display_name": "Ani Wijaya",
        "source": "Referral",
    }
    return Customer.objects.create(**{**values, **kwargs})


def _records(customer: Customer, n: int) -> None:
    """n CRM contacts, each with a won deal of two items, and n chat contacts with a room."""
    won = StageFactory(name="Won", outcome=PipelineStage.Outcome.WON, default_win_probability=100)
    lost = StageFactory(name="Lost", outcome=PipelineStage.Outcome.LOST, default_win_probability=0)
    company = CompanyFactory(name="PT Maju")
    for i in range(n):
        contact = ContactFactory(
            customer=customer,
            company=company,
            email=f"ani{i}@example.com",
            source="Referral",
            created_at=datetime(2026, 1, 10 + i, 3, 0, tzinfo=UTC),
        )
        deal = DealFactory(
            contact=contact,
            stage=won,
            amount=Decimal("15000000.00"),
            created_at=datetime(2026, 2, 1 + i, 3, 0, tzinfo=UTC),
            closed_at=datetime(2026, 2, 5 + i, 3, 0, tzinfo=UTC),
        )
        DealItemFactory(deal=deal, product=ProductFactory(name=f"Paket {i}"))
        DealItemFactory(deal=deal, product=ProductFactory(name=f"Tambahan {i}"))
        DealFactory(
            contact=contact,
            stage=lost,
            lost_reason=LostReasonFactory(),
            amount=Decimal("500000.00"),
            created_at=datetime(2026, 2, 2 + i, 3, 0, tzinfo=UTC),
            closed_at=datetime(2026, 2, 20, 3, 0, tzinfo=UTC),
        )
        chat = ChatContactFactory(
            customer=customer,
            phone=f"+62812345678{i}",
            created_at=datetime(2026, 1, 11 + i, 3, 0, tzinfo=UTC),
        )
        ChatRoomFactory(
            chat_contact=chat,
            created_at=datetime(2026, 1, 12 + i, 3, 0, tzinfo=UTC),
            resolved_at=datetime(2026, 1, 12 + i, 5, 0, tzinfo=UTC),
            csat_score=4 + i % 2,
        )


@pytest.mark.django_db
def test_anonymous_and_staff_without_permission_are_kept_out(client, fake):
    # given
    customer = _customer()
    anonymous = client.get(_url(customer.pk))
    client.force_login(UserFactory(is_staff=True))

    # when
    staff = client.get(_url(customer.pk))

    # then
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    assert staff.status_code == 403


def test_shows_records_deals_chats_timeline_revenue_and_rfm(client, fake, viewer):
    # given
    customer = _customer()
    _records(customer, 2)

    # when
    response = client.get(_url(customer.pk), {"preset": "last_month"})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "ani0@example.com" in html and "ani1@example.com" in html  # email keys
    assert "+628123456780" in html  # chat phone key
    assert "Paket 0" in html and "Tambahan 1" in html  # deal items
    assert "Harga terlalu tinggi" in html  # lost reason
    assert 'class="insights-badge won"' in html and 'class="insights-badge lost"' in html
    # two won deals of 15,000,000 each; lost deals do not count
    assert "IDR\u00a030,000,000" in html
    assert "4.5<" in html  # CSAT 4 and 5
    assert "Potential Loyalists" in html and "5 / 2 / 4" in html
    assert fake.calls[-1][0] == "rfm_for_customers"
    assert fake.calls[-1][1]["customer_ids"] == [customer.pk]
    timeline = html.split('class="insights-timeline insights-stack"')[1]
    events = ("CRM contact created", "Chat contact created", "Chat room opened")
    events += ("Chat room resolved",)
    positions = [timeline.index(e) for e in events]
    assert positions == sorted(positions, reverse=True)  # newest first
    assert timeline.index("Deal closed (Won)") < timeline.index("Deal created")


def test_query_count_does_not_grow_with_records(client, fake, viewer):
    # given
    small, large = _customer(), _customer(display_name="Budi")
    _records(small, 1)
    _records(large, 6)

    # when
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url(small.pk)).status_code == 200
    with CaptureQueriesContext(connection) as six:
        assert client.get(_url(large.pk)).status_code == 200

    # then
    assert len(one) == len(six)
    assert len(six) <= 16  # 16: + the survey answers (one query)


def test_merged_away_id_redirects_to_the_survivor(client, fake, viewer):
    # given
    survivor = _customer()
    CustomerAlias.objects.create(alias_id=survivor.pk + 1000, customer=survivor)

    # when
    response = client.get(_url(survivor.pk + 1000), {"preset": "this_year"})

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{_url(survivor.pk)}?preset=this_year"


def test_unknown_id_is_404(client, fake, viewer):
    # given / when
    response = client.get(_url(987654))

    # then
    assert response.status_code == 404


def test_bad_period_is_a_message(client, fake, viewer):
    # given
    customer = _customer()

    # when
    response = client.get(_url(customer.pk), {"preset": "nope"})

    # then
    assert response.status_code == 400
    assert "unknown preset" in response.content.decode()


def test_customer_without_rfm_in_the_period(client, fake, viewer, monkeypatch):
    # given
    customer = _customer()
    monkeypatch.setattr("insights.queries.rfm_for_customers", lambda **kwargs: {})

    # when
    html = client.get(_url(customer.pk)).content.decode()

    # then
    assert "No won deal closed in this period" in html
    assert "IDR\u00a00" in html


def test_every_record_deal_and_room_links_to_its_admin_page(client, fake, viewer):
    # given
    customer = _customer()
    _records(customer, 1)
    contact = customer.contacts.get()
    chat = customer.chat_contacts.get()
    deals = list(contact.deals.order_by("id"))
    room = chat.rooms.get()

    # when
    html = client.get(_url(customer.pk)).content.decode()

    # then
    assert f'href="/admin/customers/contact/{contact.pk}/change/"' in html
    assert f'href="/admin/chats/chatcontact/{chat.pk}/change/"' in html
    for deal in deals:
        assert f'href="/admin/deals/deal/{deal.pk}/change/"' in html
    assert f'href="/admin/chats/chatroom/{room.pk}/change/"' in html
    timeline = html.split('class="insights-timeline insights-stack"')[1]
    assert f'<a href="/admin/deals/deal/{deals[0].pk}/change/">' in timeline


def test_timeline_pages_fifty_events_newest_first(client, fake, viewer):
    # given: 10 contacts with 2 deals, 1 chat contact and 1 room each: 10 × 8 = 80 events
    customer = _customer()
    _records(customer, 10)

    # when
    first = client.get(_url(customer.pk), {"preset": "last_month"}).content.decode()
    second = client.get(
        _url(customer.pk), {"preset": "last_month", "timeline_page": "2"}
    ).content.decode()

    # then
    first_rows = first.split('class="insights-timeline insights-stack"')[1].split("</table>")[0]
    second_rows = second.split('class="insights-timeline insights-stack"')[1].split("</table>")[0]
    assert first_rows.count("<tr>") == 1 + 50  # the header row and 50 events
    assert second_rows.count("<tr>") == 1 + 30
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "?preset=last_month&amp;timeline_page=2" in first
    # the newest event (the lost deals closed on 20 Feb) on page 1, the oldest (contact 0) last
    # one date format on the page, the language's, never broken (issue 32)
    feb20 = "Feb.\u00a020,\u00a02026"
    assert feb20 in first_rows and feb20 not in second_rows
    assert second_rows.rstrip().endswith("</tr></tbody>")
    assert "Jan.\u00a010,\u00a02026\u00a010:00" in second_rows.split("<tr>")[-1]  # 03:00 UTC


def test_predicted_value_block_beside_rfm(client, fake, viewer):
    # given
    from insights.models import CustomerValue

    with_value, without = _customer(), _customer(display_name="Budi")
    CustomerValue.objects.create(
        customer=with_value, p_alive=0.8312, expected_purchases=2.456,
        expected_value=Decimal("120.00"), predicted_clv=Decimal("294.72"),
    )  # fmt: skip
    # when
    html = client.get(_url(with_value.pk)).content.decode()
    empty = client.get(_url(without.pk)).content.decode()
    # then: right after the RFM section, P(alive), expected buying days and predicted value
    section = html.split('id="section-value"')[1]
    assert html.index('id="section-rfm"') < html.index('id="section-value"')
    assert ">0.83<" in section and ">2.46<" in section and "IDR\u00a0295" in section
    assert "The probability that this customer still buys from you." in section
    assert "No prediction" in empty.split('id="section-value"')[1]
