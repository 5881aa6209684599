"""insights.customer_filters: every filter by hand over a small, fixed set of customers."""

from datetime import date

import pytest

from customers.models import Customer
from insights import queries
from insights.customer_filters import (
    CustomerFilterError,
    customer_filter,
    customer_filter_summary,
    customer_filters_clean,
    customer_order,
)
from insights.models import Segment
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    ContactFactory,
    CustomerFactory,
    DealItemFactory,
    ProductFactory,
    UserFactory,
)
from tests.insights.build import at, deal, period, rebuild

pytestmark = pytest.mark.django_db


def person(name: str, *, first_seen: str = "2026-01-05", country="ID", city="Jakarta"):
    """A snapshot customer with one CRM contact (deals hang off the contact)."""
    moment = at(first_seen)
    customer = CustomerFactory(display_name=name, first_seen_at=moment, country=country, city=city)
    contact = ContactFactory(created_at=moment, customer=customer)
    return customer, contact


@pytest.fixture
def shop():
    """Four customers; Tablet bought by Ani (Oct) and Budi (Sep); revenue Ani 300, Budi 50."""
    ani, ani_c = person("Ani")
    budi, budi_c = person("Budi", city="Bandung")
    citra, citra_c = person("Citra", country="SG", city="Singapore", first_seen="2026-10-20")
    dewi, dewi_c = person("Dewi", country="Other", city="Other")
    tablet = ProductFactory(external_id="TAB", name="Tablet Mesin Digital")
    won_oct = deal(ani_c, created="2026-10-02", closed="2026-10-03", outcome="won", amount="200")
    DealItemFactory(deal=won_oct, product=tablet)
    deal(ani_c, created="2026-10-10", closed="2026-10-12", outcome="won", amount="100")
    won_sep = deal(budi_c, created="2026-09-01", closed="2026-09-02", outcome="won", amount="50")
    DealItemFactory(deal=won_sep, product=tablet)
    deal(citra_c, created="2026-10-21", closed="2026-10-22", outcome="lost", reason="Price")
    deal(dewi_c, created="2026-08-01")  # open, before October
    chat = ChatContactFactory(customer=dewi, created_at=at("2026-01-05"))
    ChatRoomFactory(chat_contact=chat, created_at=at("2026-10-15"))
    rebuild()
    return {"ani": ani, "budi": budi, "citra": citra, "dewi": dewi}


def names(params: dict[str, str], user=None) -> list[str]:
    queryset = customer_filter(queryset=Customer.objects.all(), params=params, user=user)
    return sorted(queryset.values_list("display_name", flat=True))


OCT = {"start": "2026-10-01", "end": "2026-10-31"}


def test_country_any_case_and_other_city_as_written(shop):
    assert names({"country": "id"}) == ["Ani", "Budi"]
    assert names({"country": "SG"}) == ["Citra"]
    assert names({"country": "Other"}) == ["Dewi"]
    assert names({"city": "Jakarta"}) == ["Ani"]
    assert names({"city": "Bandung", "country": "ID"}) == ["Budi"]


def test_product_bought_any_time_or_in_the_period(shop):
    assert names({"product": "TAB"}) == ["Ani", "Budi"]
    assert names({"product": "TAB", **OCT}) == ["Ani"]
    assert names({"product": "TAB", "start": "2026-11-01", "end": "2026-11-30"}) == []


def test_revenue_in_the_period_and_lifetime(shop):
    # October revenue: Ani 300, everyone else 0
    assert names({"revenue_min": "300", **OCT}) == ["Ani"]
    assert names({"revenue_min": "301", **OCT}) == []
    assert names({"revenue_max": "0", **OCT}) == ["Budi", "Citra", "Dewi"]
    assert names({"revenue_min": "0", "revenue_max": "299.99", **OCT}) == [
        "Budi",
        "Citra",
        "Dewi",
    ]
    # lifetime (no period): Ani 300, Budi 50
    assert names({"revenue_min": "50"}) == ["Ani", "Budi"]
    assert names({"revenue_min": "50", "revenue_max": "100"}) == ["Budi"]


def test_has_deals_inactive_and_lost_reason_in_the_period(shop):
    assert names({"has_deals": "yes", **OCT}) == ["Ani", "Citra"]
    assert names({"has_deals": "no", **OCT}) == ["Budi", "Dewi"]
    assert names({"has_deals": "yes"}) == ["Ani", "Budi", "Citra", "Dewi"]
    # Dewi had a chat room in October, Budi nothing
    assert names({"inactive": "yes", **OCT}) == ["Budi"]
    assert names({"lost_reason": "Price", **OCT}) == ["Citra"]
    assert names({"lost_reason": "Price", "start": "2026-09-01", "end": "2026-09-30"}) == []


def test_first_seen_range_source_and_rfm_segment_for_the_period(shop):
    assert names({"first_seen_from": "2026-10-01"}) == ["Citra"]
    assert names({"first_seen_to": "2026-09-30", "country": "ID"}) == ["Ani", "Budi"]
    # October: Ani is the only payer, with two won deals: F = 2 + floor(4 × 0 / 1) = 2. Her
    # segment is whatever the RFM engine scores (the recency rule is not this module's).
    october = period("2026-10-01", "2026-10-31")
    segment = queries.rfm_for_customers(period=october, customer_ids=[shop["ani"].pk])
    assert names({"segment": segment[shop["ani"].pk].segment, **OCT}) == ["Ani"]
    assert names({"f": "2", "rfm_start": "2026-10-01", "rfm_end": "2026-10-31"}) == ["Ani"]
    assert names({"f": "1", **OCT}) == []
    assert names({"f": "2", "start": "2026-09-01", "end": "2026-09-30"}) == []


def test_ordering_by_lifetime_revenue_and_last_purchase(shop):
    everyone = Customer.objects.filter(country__in=["ID"])
    by_revenue = customer_order(everyone, "-lifetime_revenue").values_list(
        "display_name", flat=True
    )
    by_last = customer_order(everyone, "last_purchase").values_list("display_name", flat=True)
    assert list(by_revenue) == ["Ani", "Budi"]
    assert list(by_last) == ["Budi", "Ani"]
    assert shop["ani"].stats.last_purchase_day == date(2026, 10, 12).toordinal()


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"country": "IDN"}, "country"),
        ({"company": "abc"}, "company"),
        ({"first_seen_from": "yesterday"}, "first_seen_from"),
        ({"product": "NOPE"}, "product"),
        ({"revenue_min": "1e5"}, "revenue_min"),
        ({"revenue_max": "lots"}, "revenue_max"),
        ({"has_deals": "maybe"}, "has_deals"),
        ({"inactive": "yes"}, "inactive"),
        ({"lost_reason": "Price"}, "lost_reason"),
        ({"start": "2026-10-01"}, "end"),
        ({"start": "2026-10-31", "end": "2026-10-01"}, "start"),
        ({"segment": "Heroes"}, "segment"),
        ({"r": "6"}, "r"),
        ({"segment_id": "999"}, "segment_id"),
    ],
)
def test_a_bad_value_names_its_parameter(shop, params, param):
    with pytest.raises(CustomerFilterError) as error:
        names(params, user=UserFactory())
    assert error.value.param == param


def test_bad_ordering_is_refused():
    with pytest.raises(CustomerFilterError) as error:
        customer_order(Customer.objects.all(), "name")
    assert error.value.param == "ordering"


def test_segment_id_applies_a_visible_saved_segment(shop):
    # given
    owner, other = UserFactory(), UserFactory()
    mine = Segment.objects.create(name="Tablet buyers", owner=owner, filters={"product": "TAB"})
    private = Segment.objects.create(name="Theirs", owner=other, filters={"country": "SG"})
    # when / then
    assert names({"segment_id": str(mine.pk)}, user=owner) == ["Ani", "Budi"]
    assert names({"segment_id": str(mine.pk), "city": "Jakarta"}, user=owner) == ["Ani"]
    with pytest.raises(CustomerFilterError):
        names({"segment_id": str(private.pk)}, user=owner)


def test_an_invalid_saved_filter_is_reported_not_dropped(shop):
    # given: the product it names no longer exists
    owner = UserFactory()
    broken = Segment.objects.create(name="Gone", owner=owner, filters={"product": "OLD"})
    # when
    with pytest.raises(CustomerFilterError) as error:
        names({"segment_id": str(broken.pk)}, user=owner)
    # then
    assert error.value.param == "segment_id"
    assert "invalid saved filter" in error.value.message
    assert "OLD" in error.value.message


def test_clean_keeps_the_active_filters_and_refuses_unknown_ones(shop):
    assert customer_filters_clean({"country": "id", "city": "", "product": "TAB"}) == {
        "country": "id",
        "product": "TAB",
    }
    with pytest.raises(CustomerFilterError) as error:
        customer_filters_clean({"colour": "red"})
    assert error.value.param == "colour"


def test_summary_reads_like_a_sentence(shop):
    parts = customer_filter_summary({"product": "TAB", **OCT, "city": "Jakarta"})
    assert " · ".join(parts) == "Bought Tablet Mesin Digital · 1–31 Oct 2026 · Jakarta"
