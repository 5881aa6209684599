"""Every bad parameter gets 400 with a JSON body naming it; nothing gets a 500."""

import pytest

GROWTH = "/api/v1/insights/growth/"
INSIGHTS = [
    GROWTH,
    "/api/v1/insights/demographics/",
    "/api/v1/insights/sales/",
    "/api/v1/insights/lost-reasons/",
    "/api/v1/insights/top-products/",
    "/api/v1/insights/rfm/",
    "/api/v1/insights/revenue/",
]

BAD_PERIODS = [
    ({"preset": "last_31_days"}, "preset"),
    ({"start": "2026-02-30", "end": "2026-03-01"}, "start"),
    ({"start": "2026-01-01", "end": "2026/02/01"}, "end"),
    ({"start": "2026-W01-1", "end": "2026-02-01"}, "start"),
    ({"start": "1 Jan 2026", "end": "2026-02-01"}, "start"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "start"),
    ({"start": "2026-01-01"}, "end"),
    ({"end": "2026-01-31"}, "start"),
    ({"preset": "last_month", "start": "2026-01-01", "end": "2026-01-31"}, "preset"),
    ({"preset": "last_month", "end": "2026-01-31"}, "preset"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", INSIGHTS)
@pytest.mark.parametrize(("query", "param"), BAD_PERIODS)
def test_bad_period_gets_400_naming_the_parameter(api, url, query, param):
    # when
    response = api.get(url, query)
    # then
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["errors"]
    assert list(body["errors"]) == [param]
    assert all(isinstance(message, str) and message for message in body["errors"][param])


@pytest.mark.django_db
def test_start_after_end_says_so(api):
    # when
    response = api.get(GROWTH, {"start": "2026-03-01", "end": "2026-02-01"})
    # then
    assert response.json() == {"errors": {"start": ["start 2026-03-01 is after end 2026-02-01"]}}


OTHER_BAD = [
    (GROWTH, {"granularity": "hour"}, "granularity"),
    ("/api/v1/insights/sales/", {"granularity": "Month"}, "granularity"),
    ("/api/v1/insights/demographics/", {"scope": "old"}, "scope"),
    ("/api/v1/insights/top-products/", {"order": "name"}, "order"),
    ("/api/v1/insights/top-products/", {"limit": "0"}, "limit"),
    ("/api/v1/insights/top-products/", {"limit": "101"}, "limit"),
    ("/api/v1/insights/top-products/", {"limit": "ten"}, "limit"),
    ("/api/v1/insights/top-products/", {"limit": "2.5"}, "limit"),
    ("/api/v1/customers/", {"company": "PT Contoh"}, "company"),
    ("/api/v1/customers/", {"company": "99999999999999999999999"}, "company"),
    ("/api/v1/customers/", {"has_deals": "maybe"}, "has_deals"),
    ("/api/v1/customers/", {"first_seen_from": "2026-13-01"}, "first_seen_from"),
    ("/api/v1/customers/", {"first_seen_to": "soon"}, "first_seen_to"),
    ("/api/v1/customers/", {"segment": "Whales"}, "segment"),
    ("/api/v1/customers/", {"r": "6"}, "r"),
    ("/api/v1/customers/", {"f": "0"}, "f"),
    ("/api/v1/customers/", {"revenue_min": "lots"}, "revenue_min"),
    ("/api/v1/customers/", {"revenue_max": "NaN"}, "revenue_max"),
    ("/api/v1/customers/", {"segment": "Champions", "rfm_start": "2026-01-01"}, "rfm_end"),
    (
        "/api/v1/customers/",
        {"segment": "Champions", "rfm_start": "2026-02-01", "rfm_end": "2026-01-01"},
        "rfm_start",
    ),
    ("/api/v1/customers/?format=csv", {"has_deals": "maybe"}, "has_deals"),
    ("/api/v1/customers/1/", {"preset": "someday"}, "preset"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "query", "param"), OTHER_BAD)
def test_bad_option_gets_400_naming_the_parameter(api, url, query, param):
    # when
    response = api.get(url, query)
    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["errors"]) == [param]


@pytest.mark.django_db
def test_empty_parameters_count_as_not_given_as_html_forms_send_them(api):
    # when
    response = api.get(GROWTH, {"preset": "", "start": "", "end": "", "granularity": ""})
    # then: the default period, last_30_days
    assert response.status_code == 200
    assert response.json()["period"]["preset"] == "last_30_days"


@pytest.mark.django_db
def test_unknown_query_parameters_are_ignored(api):
    # when
    response = api.get("/api/v1/insights/revenue/", {"colour": "blue"})
    # then
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("pk", ["99999999999999999999999", "9223372036854775808"])
def test_an_id_beyond_64_bits_is_404_not_500(api, pk):
    # when
    response = api.get(f"/api/v1/customers/{pk}/")
    # then
    assert response.status_code == 404
