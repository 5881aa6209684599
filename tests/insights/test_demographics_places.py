"""METRICS.md 4.B: by_country, by_city, and every list cut to `limit` plus `All others`."""

import pytest

from insights import queries
from insights.queries import LabelCount
from insights.rebuild import insights_rebuild
from tests.factories import ContactFactory, UserFactory
from tests.insights.build import period


def rebuild():
    # With identity resolution: country and city are snapshot attributes (METRICS.md 2).
    return insights_rebuild(trigger="test", full=True)


pytestmark = pytest.mark.django_db


def person(n: int, *, country: str = "", city: str = "", phone: str = "", source: str = ""):
    return ContactFactory(
        email=f"p{n}@x.id", country=country, city=city, phone=phone, source=source
    )


def test_by_country_and_by_city_with_phone_fallback_and_other():
    # given
    person(1, country="ID", city="Jakarta")
    person(2, country="ID", city="Bandung")
    person(3, phone="+65 6123 4567", city="Jakarta")  # no CRM country: the phone's region
    person(4)  # nothing: Other
    rebuild()

    # when
    demo = queries.demographics(period=period("2026-01-01", "2026-01-31"))

    # then
    assert demo.by_country == [
        LabelCount("ID", 2, "ID"),
        LabelCount("Other", 1, None),
        LabelCount("SG", 1, "SG"),
    ]
    assert demo.by_city == [
        LabelCount("Jakarta", 2, "Jakarta"),
        LabelCount("Bandung", 1, "Bandung"),
        LabelCount("Other", 1, None),
    ]


def test_limit_keeps_the_first_rows_and_sums_the_rest_in_all_others():
    # given: cities with 3, 2, 1, 1 customers
    for n, city in enumerate(["Medan", "Medan", "Medan", "Bogor", "Bogor", "Depok", "Solo"]):
        person(n, city=city)
    rebuild()
    jan = period("2026-01-01", "2026-01-31")

    # when
    two = queries.demographics(period=jan, limit=2)
    all_rows = queries.demographics(period=jan, limit=100)

    # then
    assert two.by_city == [
        LabelCount("Medan", 3, "Medan"),
        LabelCount("Bogor", 2, "Bogor"),
        LabelCount("All others", 2, None),
    ]
    assert [r.label for r in all_rows.by_city] == ["Medan", "Bogor", "Depok", "Solo"]
    assert two.by_source == [LabelCount("Other", 7, None)]  # nothing left out: no extra row


def test_limit_out_of_range_is_refused():
    with pytest.raises(ValueError, match="limit"):
        queries.demographics(period=period("2026-01-01", "2026-01-31"), limit=101)


def test_api_demographics_limit_and_400(client):
    # given
    for n, country in enumerate(["ID", "ID", "SG", "MY"]):
        person(n, country=country)
    rebuild()
    user = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(user)
    url = "/api/v1/insights/demographics/"

    # when
    ok = client.get(url, {"start": "2026-01-01", "end": "2026-01-31", "limit": 1})
    bad = client.get(url, {"start": "2026-01-01", "end": "2026-01-31", "limit": 101})

    # then
    assert ok.status_code == 200
    assert ok.json()["by_country"] == [
        {"label": "ID", "customers": 2},
        {"label": "All others", "customers": 2},
    ]
    assert ok.json()["by_city"] == [{"label": "Other", "customers": 4}]
    assert bad.status_code == 400
    assert "limit" in bad.json()["errors"]


def test_companies_past_the_hundredth_row_are_cut_by_count_then_name():
    # given: one company with 3 customers, 101 with 1 each (tied at the 100th row), 1 without
    from tests.factories import CompanyFactory

    big = CompanyFactory(name="PT Besar")
    for n in range(3):
        ContactFactory(email=f"b{n}@x.id", company=big)
    tied = [CompanyFactory(name=f"PT Kecil {n:03d}") for n in range(101)]
    for n, company in enumerate(tied):
        ContactFactory(email=f"k{n}@x.id", company=company)
    person(999)
    rebuild()

    # when
    rows = queries.demographics(period=period("2026-01-01", "2026-01-31"), limit=100).by_company

    # then: PT Besar, then the 1-customer rows by label ("Other" sorts before "PT"): Other and
    # 98 tied companies; the last 3 tied companies are summed in All others
    assert rows[0] == LabelCount("PT Besar", 3, str(big.pk))
    assert rows[1] == LabelCount("Other", 1, None)
    assert [r.label for r in rows[2:100]] == [f"PT Kecil {n:03d}" for n in range(98)]
    assert rows[100] == LabelCount("All others", 3, None)
    assert len(rows) == 101
