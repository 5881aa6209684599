"""customers/ pagination: an estimated count on a large unfiltered list, exact counts otherwise."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from insights.api import pagination
from insights.api.customer360 import customer_list_queryset

from .conftest import make_customer

LIST = "/api/v1/customers/"

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="planner estimates exist on PostgreSQL only"
)


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")


def _get(client, url: str) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    # The throttle's counter lives in the shared cache (Redis in production, a database table
    # with a savepoint around its write in the embedded default): not the list's statements.
    return response.json(), [
        q["sql"] for q in queries if "wawasan_cache" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def _counts(sqls: list[str]) -> list[str]:
    # The throttle's counter lives in the shared cache: Redis in production, a database table
    # in the embedded default, whose culling counts its rows; that is not the list's count.
    # (The page's RFM column runs a window COUNT of its own: not a count of the list.)
    return [
        sql
        for sql in sqls
        if sql.lstrip().upper().startswith("SELECT COUNT(") and "wawasan_cache" not in sql
    ]


def _estimate(monkeypatch, rows: int | None) -> None:
    """Pretend the database estimates `rows` rows (wiring tests that run on SQLite too)."""
    monkeypatch.setattr(pagination, "table_row_estimate", lambda *, model, using: rows)


# --- queryset_is_unfiltered ------------------------------------------------------------------
@pytest.mark.django_db
def test_unfiltered_is_the_list_queryset_as_is_with_any_ordering():
    # given
    base = customer_list_queryset()
    # then: its select_related / annotation joins keep one row per customer
    assert pagination.queryset_is_unfiltered(base)
    assert pagination.queryset_is_unfiltered(base.order_by("-first_seen_at", "-id"))
    assert not pagination.queryset_is_unfiltered(base.filter(source="Referral"))
    assert not pagination.queryset_is_unfiltered(base.filter(stats__lifetime_revenue__gte=1))
    assert not pagination.queryset_is_unfiltered(base.distinct())
    assert not pagination.queryset_is_unfiltered(base.none())
    assert not pagination.queryset_is_unfiltered(base[:10])


# --- small tables and SQLite: exact --------------------------------------------------------
@pytest.mark.django_db
def test_small_unfiltered_list_counts_exactly(api):
    # given: three customers, far below API_EXACT_COUNT_BELOW (and ANALYZEd on PostgreSQL)
    for name in ("Ani", "Budi", "Citra"):
        make_customer(display_name=name)
    if connection.vendor == "postgresql":
        _analyze()
    # when
    body, sqls = _get(api, LIST + "?page_size=2")
    # then
    assert body["count"] == 3
    assert body["count_is_estimate"] is False
    assert len(_counts(sqls)) == 1
    assert body["next"].endswith("page=2&page_size=2")


@pytest.mark.django_db
def test_sqlite_never_estimates(api, settings):
    # given
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    settings.API_EXACT_COUNT_BELOW = 0
    make_customer(display_name="Ani")
    # when
    body, sqls = _get(api, LIST)
    # then
    assert pagination.table_row_estimate(model=Customer) is None
    assert (body["count"], body["count_is_estimate"]) == (1, False)
    assert len(_counts(sqls)) == 1


# --- the estimate path (any database: the estimate is injected) ------------------------------
@pytest.mark.django_db
def test_estimated_count_skips_the_count_query_and_pages_by_one_row_more(api, monkeypatch):
    # given: five customers, the database "estimates" 100,000
    ids = [make_customer(display_name=f"C{n}").pk for n in range(5)]
    _estimate(monkeypatch, 100_000)
    # when
    first, first_sqls = _get(api, LIST + "?page_size=2")
    second, _ = _get(api, LIST + "?page=2&page_size=2")
    last, last_sqls = _get(api, LIST + "?page=3&page_size=2")
    # then: no COUNT while rows follow; next is right because a sixth row was asked for
    assert (first["count"], first["count_is_estimate"]) == (100_000, True)
    assert [row["id"] for row in first["results"]] == ids[:2]
    assert first["previous"] is None
    assert first["next"].endswith("page=2&page_size=2")
    assert _counts(first_sqls) == []
    assert [row["id"] for row in second["results"]] == ids[2:4]
    assert second["next"].endswith("page=3&page_size=2")
    # the last page has no row after it: its count is exact, whatever the estimate said
    assert (last["count"], last["count_is_estimate"]) == (5, False)
    assert [row["id"] for row in last["results"]] == ids[4:]
    assert last["next"] is None
    assert _counts(last_sqls) == []


@pytest.mark.django_db
def test_estimate_below_the_rows_already_seen_is_raised_to_them(api, monkeypatch, settings):
    # given: the estimate (2) is stale, there are 5 rows
    settings.API_EXACT_COUNT_BELOW = 0
    for n in range(5):
        make_customer(display_name=f"C{n}")
    _estimate(monkeypatch, 2)
    # when
    body, _ = _get(api, LIST + "?page=2&page_size=2")
    # then: at least the 4 seen plus the one after them
    assert (body["count"], body["count_is_estimate"]) == (5, True)
    assert body["next"].endswith("page=3&page_size=2")


@pytest.mark.django_db
def test_estimate_below_the_threshold_counts_exactly(api, monkeypatch, settings):
    # given
    settings.API_EXACT_COUNT_BELOW = 1001
    for n in range(3):
        make_customer(display_name=f"C{n}")
    _estimate(monkeypatch, 1000)
    # when
    body, sqls = _get(api, LIST + "?page_size=2")
    # then
    assert (body["count"], body["count_is_estimate"]) == (3, False)
    assert len(_counts(sqls)) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "source=Referral",
        "search=ani",
        "first_seen_from=2026-01-01",
        "has_deals=no",
        "revenue_min=0",
    ],
)
def test_any_filter_counts_exactly(api, monkeypatch, query):
    # given: two Referral customers named Ani*, one other; the database "estimates" 100,000
    make_customer(display_name="Ani", source="Referral", revenue="5")
    make_customer(display_name="Anita", source="Referral", revenue="7")
    make_customer(display_name="Budi", source="Ads", first_seen="2025-12-31")
    _estimate(monkeypatch, 100_000)
    expected = {
        "source=Referral": 2,
        "search=ani": 2,
        "first_seen_from=2026-01-01": 2,
        "has_deals=no": 3,
        "revenue_min=0": 2,
    }[query]
    # when
    body, sqls = _get(api, f"{LIST}?{query}&page_size=1")
    # then
    assert (body["count"], body["count_is_estimate"]) == (expected, False)
    assert len(_counts(sqls)) == 1
    # the count joins only what its filter needs (revenue_min: the stats), never the value
    # table or the company the page's columns show: an index-only count on PostgreSQL
    assert "insights_customervalue" not in _counts(sqls)[0]
    assert ("insights_customerstats" in _counts(sqls)[0]) == (query == "revenue_min=0")


@pytest.mark.django_db
def test_blank_search_is_no_filter(api, monkeypatch):
    # given
    make_customer(display_name="Ani")
    make_customer(display_name="Budi")
    _estimate(monkeypatch, 100_000)
    # when
    body, _ = _get(api, LIST + "?search=%20&page_size=1")
    # then
    assert (body["count"], body["count_is_estimate"]) == (100_000, True)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["0", "-1", "abc", "4"])
def test_pages_out_of_range_answer_404_with_an_estimate(api, monkeypatch, page):
    # given: 5 rows in pages of 2, so page 4 is past the data
    for n in range(5):
        make_customer(display_name=f"C{n}")
    _estimate(monkeypatch, 100_000)
    # when
    response = api.get(f"{LIST}?page={page}&page_size=2")
    # then
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.django_db
def test_last_page_keyword_counts_exactly(api, monkeypatch):
    # given
    ids = [make_customer(display_name=f"C{n}").pk for n in range(5)]
    _estimate(monkeypatch, 100_000)
    # when
    body, sqls = _get(api, LIST + "?page=last&page_size=2")
    # then
    assert (body["count"], body["count_is_estimate"]) == (5, False)
    assert [row["id"] for row in body["results"]] == ids[4:]
    assert len(_counts(sqls)) == 1


@pytest.mark.django_db
def test_csv_export_is_not_paginated_by_the_estimate(api, monkeypatch):
    # given
    for n in range(3):
        make_customer(display_name=f"C{n}")
    _estimate(monkeypatch, 100_000)
    # when
    response = api.get(LIST + "?format=csv&page_size=1")
    # then: header + every row
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content).decode().strip().splitlines()) == 4


@pytest.mark.django_db
def test_first_page_query_count_is_pinned(api, monkeypatch):
    # given
    for n in range(3):
        make_customer(display_name=f"C{n}")
    _estimate(monkeypatch, 100_000)
    # when
    _, few = _get(api, LIST)
    for n in range(40):
        make_customer(display_name=f"D{n}")
    body, many = _get(api, LIST)
    # then: token + user (1), the viewer's permissions, own and groups' (1), the page (1), the
    # page's RFM column (1); no COUNT, no query per row (the estimate itself is injected here,
    # one catalog read on PG; the throttle's cache statements are left out by _get)
    assert len(body["results"]) == 43
    assert len(few) == len(many) == 4, many


# --- PostgreSQL: the planner's estimate ------------------------------------------------------
@postgresql_only
@pytest.mark.django_db
def test_postgresql_estimate_is_the_planner_row_count():
    # given
    for n in range(7):
        make_customer(display_name=f"C{n}")
    # when
    _analyze()
    estimate = pagination.table_row_estimate(model=Customer)
    # then: ANALYZE of a one-page table counts every row
    assert estimate == 7


@postgresql_only
@pytest.mark.django_db
def test_postgresql_unfiltered_list_uses_the_estimate(api, settings):
    # given: 3 rows analysed, then 2 more the statistics have not seen (same table page)
    settings.API_EXACT_COUNT_BELOW = 0
    for n in range(3):
        make_customer(display_name=f"C{n}")
    _analyze()
    for n in range(2):
        make_customer(display_name=f"D{n}")
    # when
    first, first_sqls = _get(api, LIST + "?page_size=2")
    filtered, filtered_sqls = _get(api, LIST + "?search=D&page_size=1")
    # then: the estimate (3 rows per page x 1 page) stands for the 5 rows
    assert (first["count"], first["count_is_estimate"]) == (3, True)
    assert _counts(first_sqls) == []
    assert sum("pg_class" in sql for sql in first_sqls) == 1
    assert (filtered["count"], filtered["count_is_estimate"]) == (2, False)
    assert len(_counts(filtered_sqls)) == 1


@pytest.mark.django_db
def test_schema_documents_count_is_estimate(api):
    # when
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    # then
    page = schema["components"]["schemas"]["PaginatedCustomerList"]
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "estimate" in page["properties"]["count_is_estimate"]["description"]
    assert "count_is_estimate" in page["required"]


@pytest.mark.django_db
@pytest.mark.parametrize(("ordering", "expected"), [("", [1, 3, 5]), ("-id", [5, 3, 1])])
def test_a_selective_filter_pages_from_its_matches_in_id_order(
    api, monkeypatch, ordering, expected
):
    # given: 13 customers, the Referral ones are the 1st, 3rd and 5th; the table "holds" 13
    made = [make_customer(source="Referral" if n in (1, 3, 5) else "Ads") for n in range(1, 14)]
    _estimate(monkeypatch, 13)
    order = f"&ordering={ordering}" if ordering else ""
    # when: page by page, one customer a page
    pages = [_get(api, f"{LIST}?source=Referral&page_size=1&page={n}{order}") for n in (1, 2, 3)]
    # then: 3 of 13 (< 25%) are read from the filter's own matches, in id order, exactly counted
    assert [body["results"][0]["id"] for body, _ in pages] == [made[n - 1].pk for n in expected]
    assert all(body["count"] == 3 for body, _ in pages)
    assert all(any("MATERIALIZED" in sql for sql in sqls) for _, sqls in pages)
    assert pages[2][0]["next"] is None


@pytest.mark.django_db
def test_a_broad_filter_pages_as_usual(api, monkeypatch):
    # given: 3 of 4 match (>= 25%): the usual ordered scan with a LIMIT
    for source in ("Referral", "Referral", "Referral", "Ads"):
        make_customer(source=source)
    _estimate(monkeypatch, 4)
    # when
    body, sqls = _get(api, f"{LIST}?source=Referral&page_size=2")
    # then
    assert body["count"] == 3 and len(body["results"]) == 2
    assert not any("MATERIALIZED" in sql for sql in sqls)
