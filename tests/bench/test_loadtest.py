"""bench.loadtest: the request mixes (the HTTP part runs only against a live server)."""

from collections import Counter

from bench import loadtest

ENDPOINTS = [("growth", ""), ("top-products", "order=revenue")]


def test_api_mix_is_every_endpoint_and_preset_plus_the_customers_page():
    # when
    mix = loadtest.api_requests(ENDPOINTS)
    # then
    assert len(mix) == 2 * 5 + 1
    assert ("/api/v1/insights/growth/?preset=last_7_days", "token") in mix
    assert ("/api/v1/insights/top-products/?preset=last_year&order=revenue", "token") in mix
    assert mix[-1] == ("/api/v1/customers/?page_size=50", "token")


def test_dashboard_mix_is_the_page_per_preset_with_the_session():
    # when
    mix = loadtest.request_mix("dashboard", ENDPOINTS)
    # then
    assert mix == [
        (f"/admin/insights/dashboard/?preset={preset}", "session") for preset in loadtest.PRESETS
    ]


def test_both_interleaves_every_request_once():
    # when
    mix = loadtest.request_mix("both", ENDPOINTS)
    # then: 11 API reads and 5 pages, a page after every 2 reads
    expected = loadtest.api_requests(ENDPOINTS) + loadtest.dashboard_requests()
    assert Counter(mix) == Counter(expected)
    assert [kind for _, kind in mix[:6]] == ["token", "token", "session"] * 2


def test_every_endpoint_of_the_contract_is_listed_once():
    # then: adding one is one line; unknown ones are skipped at run time by their 404
    names = [name for name, _ in loadtest.ENDPOINTS]
    assert len(names) == len(set(names))
    assert {"lifecycle", "retention", "service", "customer-value", "demographics"} <= set(names)
