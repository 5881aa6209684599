"""Every drill-down lists exactly the customers its figure counts (a test per chart)."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from customers.models import Customer
from insights import queries
from insights.customer_filters import customer_filter
from insights.dashboards import drilldown as drilldowns
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    DealItemFactory,
    ProductFactory,
)
from tests.insights.build import at, deal, period, rebuild, stage

pytestmark = pytest.mark.django_db
P = period("2026-03-01", "2026-03-31")


def listed(filters: dict[str, str]) -> int:
    return customer_filter(queryset=Customer.objects.all(), params=filters).count()


def person(first_seen: str):
    moment = at(first_seen)
    customer = CustomerFactory(first_seen_at=moment, city="Jakarta")
    return ContactFactory(created_at=moment, customer=customer)


@pytest.fixture
def month():
    """Five customers over February and March with deals, rooms, lost reasons and products."""
    a, b, c = person("2026-02-01"), person("2026-02-20"), person("2026-03-05")
    d, e = person("2026-03-10"), person("2026-03-25")
    tablet = ProductFactory(external_id="TAB", name="Tablet")
    pos = ProductFactory(external_id="POS", name="POS")
    # a: a won deal with two tablets lines and a POS (one deal), and a second won tablet deal
    w1 = deal(a, created="2026-03-02", closed="2026-03-03", outcome="won", amount="500")
    DealItemFactory(deal=w1, product=tablet)
    DealItemFactory(deal=w1, product=tablet)
    DealItemFactory(deal=w1, product=pos)
    w2 = deal(a, created="2026-03-12", closed="2026-03-13", outcome="won", amount="300")
    DealItemFactory(deal=w2, product=tablet)
    # c: a won tablet deal; a won tablet deal without a customer (counted in won_deals only)
    w3 = deal(c, created="2026-03-06", closed="2026-03-20", outcome="won", amount="100")
    DealItemFactory(deal=w3, product=tablet)
    orphan = DealFactory(contact=None, stage=stage("won"), created_at=at("2026-03-07"),
                         closed_at=at("2026-03-07"))  # fmt: skip
    DealItemFactory(deal=orphan, product=pos)
    # lost: b twice for Price, d once for Price, e blank (Unspecified), one without a customer
    deal(b, created="2026-02-25", closed="2026-03-04", outcome="lost", reason="Price")
    deal(b, created="2026-03-05", closed="2026-03-06", outcome="lost", reason="Price")
    deal(d, created="2026-03-11", closed="2026-03-12", outcome="lost", reason="Price")
    deal(e, created="2026-03-26", closed="2026-03-27", outcome="lost", reason="")
    deal(None, created="2026-03-01", closed="2026-03-02", outcome="lost", reason="Price")
    # a chat room for d in week 2 (active without a deal that week? d has a deal on 11 Mar too)
    chat = ChatContactFactory(customer=d.customer, created_at=at("2026-03-10"))
    ChatRoomFactory(chat_contact=chat, created_at=at("2026-03-18"))
    # a deal created before its customer was first seen (not in Base for that bucket)
    deal(e, created="2026-03-03")
    rebuild()


def test_growth_trend_total_new_and_inactive_points(month):
    growth = queries.growth_overview(period=P, granularity="week")
    assert [b.total for b in growth.trend] == [2, 3, 4, 4, 5, 5]
    for b in growth.trend:
        assert listed(drilldowns.growth_total_filters(end=b.end)) == b.total, b
        assert listed(drilldowns.growth_new_filters(start=b.start, end=b.end)) == b.new, b
        inactive = drilldowns.growth_inactive_filters(start=b.start, end=b.end)
        assert listed(inactive) == b.inactive, b
    assert listed({"inactive": "yes", "start": "2026-03-01", "end": "2026-03-31",
                   "first_seen_to": "2026-03-31"}) == growth.inactive_customers  # fmt: skip


def test_association_trend_buckets(month):
    sales = queries.sales_lifecycle(period=P, granularity="week")
    assert sum(b.customers_with_deals for b in sales.association_trend) > 0
    for b in sales.association_trend:
        filters = drilldowns.association_filters(start=b.start, end=b.end)
        assert listed(filters) == b.customers_with_deals, b
    whole = drilldowns.association_filters(start=P.start, end=P.end)
    assert listed(whole) == sales.customers_with_deals == 5


def test_lost_reasons_customers(month):
    rows = queries.lost_reasons(period=P)
    assert [(r.reason, r.deals, r.customers) for r in rows] == [
        ("Price", 4, 2),
        ("Unspecified", 1, 1),
    ]
    for row in rows:
        assert listed(drilldowns.lost_reason_filters(reason=row.reason, period=P)) == row.customers


def test_top_products_list_the_customers_behind_the_won_deals(month):
    rows = {r.product: r for r in queries.top_products(period=P)}
    ids = drilldowns.product_external_ids(r.product_id for r in rows.values())
    # Tablet: won deals w1, w2, w3 → customers a and c; POS: w1 and the customer-less deal → a
    assert (rows["Tablet"].won_deals, rows["POS"].won_deals) == (3, 2)
    tablet = drilldowns.product_filters(external_id=ids[rows["Tablet"].product_id], period=P)
    pos = drilldowns.product_filters(external_id=ids[rows["POS"].product_id], period=P)
    assert listed(tablet) == 2
    assert listed(pos) == 1


def test_dashboard_links_carry_those_filters(month, admin_client):
    # when
    response = admin_client.get(
        "/admin/insights/dashboard/",
        {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31", "granularity": "week"},
    )
    charts = response.context["charts"]
    # then: each chart URL opens the list with the filters above, and the list agrees
    growth = queries.growth_overview(period=P, granularity="week")
    total_urls, _new_urls, inactive_urls = charts["growth"]["dataset_urls"]
    for url, bucket in zip(total_urls, growth.trend, strict=True):
        assert listed(dict(parse_qsl(urlsplit(url).query))) == bucket.total
    for url, bucket in zip(inactive_urls, growth.trend, strict=True):
        assert listed(dict(parse_qsl(urlsplit(url).query))) == bucket.inactive
    lost_url = charts["lost"]["urls"][0]
    assert dict(parse_qsl(urlsplit(lost_url).query)) == {
        "lost_reason": "Price",
        "start": "2026-03-01",
        "end": "2026-03-31",
    }
    page = admin_client.get(lost_url)
    assert page.status_code == 200
    assert page.context["cl"].result_count == 2
    assert all(charts["products"]["urls"])
    assert len(charts["association"]["urls"]) == len(growth.trend)


def test_demographics_country_and_city_rows_drill_to_their_customers(month):
    demo = queries.demographics(period=P)
    for row in demo.by_city:
        assert listed({"city": row.key or "Other", "first_seen_to": "2026-03-31"}) == row.customers
    for row in demo.by_country:
        key = row.key or "Other"
        assert listed({"country": key, "first_seen_to": "2026-03-31"}) == row.customers


def _showing(html: str) -> str:
    return html.split('id="filter-summary"')[1].split("</p>")[0]


@pytest.mark.parametrize(
    ("language", "tablet", "pos"),
    [
        ("en", "3 deals by 2 customers", "2 deals by 1 customer"),
        ("id", "3 transaksi oleh 2 pelanggan", "2 transaksi oleh 1 pelanggan"),
    ],
)
def test_top_products_say_deals_by_customers_on_the_dashboard_and_the_list(
    month, admin_client, language, tablet, pos
):
    # given: Tablet counts w1, w2, w3 (customers a, c); POS w1 and a deal without customer (a)
    admin_client.cookies["django_language"] = language
    rows = {r.product: r for r in queries.top_products(period=P)}
    ids = drilldowns.product_external_ids(r.product_id for r in rows.values())
    # when
    page = admin_client.get(
        "/admin/insights/dashboard/",
        {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31"},
    ).content.decode()
    table = page.split('id="section-products"')[1].split("</section>")[0]
    # then: the dashboard's row and the list's Showing line say the same real counts
    for name, words in (("Tablet", tablet), ("POS", pos)):
        row = rows[name]
        filters = drilldowns.product_filters(external_id=ids[row.product_id], period=P)
        deals, customers = int(words.split()[0]), int(words.split()[-2])
        assert (deals, customers) == (row.won_deals, listed(filters))
        assert f"<td>{words}</td>" in table
        listing = admin_client.get("/admin/customers/customer/", filters)
        assert listing.context["cl"].result_count == customers
        assert words in _showing(listing.content.decode())
