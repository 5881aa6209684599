"""The Customer Insights dashboard page: permissions, parameters, drill-down and rendering.

The figures come from hand-written `insights.queries` answers (tests/insights/dashboard_fakes.py)
so these tests pin the page itself; test_dashboard_engine.py runs the page on the real engine.
"""

import json
from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.comparison import comparison_period
from insights.enqueue import Outcome, RebuildRequest
from insights.periods import CURRENT_PRESETS, NEXT_PRESETS, PAST_PRESETS, local_today, parse_period
from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

URL = "/admin/insights/dashboard/"


def _staff(*perms: str):
    user = UserFactory(is_staff=True)
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


@pytest.fixture
def fake(monkeypatch):
    return FakeQueries().install(monkeypatch)


@pytest.fixture
def viewer(client, db):
    user = _staff("view_insights")
    client.force_login(user)
    return user


def test_url_is_the_admin_path():
    # given / when / then
    assert reverse("insights_dashboard") == URL


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_admin_login(client, fake):
    # given / when
    response = client.get(URL)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/insights/dashboard/"


@pytest.mark.django_db
def test_staff_without_the_permission_gets_403(client, fake):
    # given
    client.force_login(_staff())

    # when
    response = client.get(URL)

    # then
    assert response.status_code == 403
    assert fake.calls == []


def test_staff_with_the_permission_sees_every_section(client, fake, viewer):
    # given / when
    response = client.get(URL)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    for section in (
        "section-growth",
        "section-demographics",
        "section-sales",
        "section-lost",
        "section-products",
        "section-rfm",
        "section-revenue",
    ):
        assert f'id="{section}"' in html
    for canvas in ("growth", "source", "company", "association", "lost", "products", "segments"):
        assert f'id="chart-{canvas}"' in html
    assert 'class="breadcrumbs"' in html
    assert "Data computed at" in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "cdn" not in html.lower()


def test_default_period_is_last_30_days_and_every_query_gets_it(client, fake, viewer):
    # given
    today = date(2026, 3, 10)

    # when
    with mock.patch("insights.periods.local_today", return_value=today):
        response = client.get(URL)

    # then
    assert response.status_code == 200
    periods = {(call[1]["period"].start, call[1]["period"].end) for call in fake.calls}
    # the period, and the 30 days before it for the headline comparisons
    assert periods == {(date(2026, 2, 8), date(2026, 3, 9)), (date(2026, 1, 9), date(2026, 2, 7))}
    assert {call[0] for call in fake.calls} == {
        "growth_overview",
        "demographics",
        "sales_lifecycle",
        "lost_reasons",
        "top_products",
        "product_buyers",
        "rfm_groups",
        "rfm_grid",
        "revenue_kpis",
        "customer_value",
        "customer_health",
        "buyer_lifecycle",
        "cohort_retention",
        "service_figures",
        "service_headline",
        "sales_by_owner",
    }
    previous = {call[0] for call in fake.calls if call[1]["period"].start == date(2026, 1, 9)}
    # every section that compares with P′ (the figure registry's `compares`), service included
    # with its compared headline figures alone (the registry's compare_compute)
    assert previous == {
        "growth_overview",
        "sales_lifecycle",
        "revenue_kpis",
        "buyer_lifecycle",
        "service_headline",
    }


@pytest.mark.parametrize("preset", PAST_PRESETS + CURRENT_PRESETS + NEXT_PRESETS)
def test_every_preset_renders(client, fake, viewer, preset):
    # given / when
    response = client.get(URL, {"preset": preset})

    # then
    assert response.status_code == 200
    current = [call for call in fake.calls if call[1]["period"].preset is not None]
    compared = [call for call in fake.calls if call[1]["period"].preset is None]
    assert all(call[1]["period"].preset == preset for call in current)
    # the headline comparisons ask for P′ (as long as P, just before it) once P has ended,
    # for P″ (its first A − start + 1 days) while it has not, for nothing before it starts
    period = current[0][1]["period"]
    other = comparison_period(period, local_today())
    expected = set() if other is None else {(other.start, other.end)}
    assert {(c[1]["period"].start, c[1]["period"].end) for c in compared} == expected
    if other is not None and period.end <= local_today():
        assert (other.end, other.days) == (period.start - timedelta(days=1), period.days)
    assert f'<option value="{preset}" selected>' in response.content.decode()


def test_presets_are_grouped_past_current_next(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then
    past, current, nxt = (
        html.index('<optgroup label="Past">'),
        html.index('<optgroup label="Current">'),
        html.index('<optgroup label="Next">'),
    )
    assert past < html.index('value="last_quarter"') < current
    assert current < html.index('value="this_year"') < nxt
    assert nxt < html.index('value="next_year"')


def test_custom_range_and_granularity_reach_the_queries(client, fake, viewer):
    # given / when
    response = client.get(
        URL, {"preset": "custom", "start": "2026-01-01", "end": "2026-02-28", "granularity": "week"}
    )

    # then
    assert response.status_code == 200
    growth = next(kwargs for name, kwargs in fake.calls if name == "growth_overview")
    assert (growth["period"].start, growth["period"].end) == (date(2026, 1, 1), date(2026, 2, 28))
    assert growth["granularity"] == "week"
    html = response.content.decode()
    assert 'value="2026-01-01"' in html and 'value="2026-02-28"' in html


def test_start_and_end_without_preset_work_like_the_api(client, fake, viewer):
    # given / when
    response = client.get(URL, {"start": "2026-01-01", "end": "2026-01-31"})

    # then
    assert response.status_code == 200
    assert '<option value="custom" selected>' in response.content.decode()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"preset": "last_decade"}, "unknown preset"),
        ({"start": "2026-02-30", "end": "2026-03-01"}, "is not a date"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, "is after End"),
        ({"start": "2026-03-01"}, "Choose an End date as well"),
        ({"preset": "custom"}, "Choose a start and an end date"),
        ({"preset": "today", "start": "2026-01-01", "end": "2026-01-02"}, "either preset"),
        ({"granularity": "hour"}, "unknown granularity"),
        ({"scope": "vip"}, "Unknown scope"),
        ({"order": "alphabet"}, "Unknown order"),
    ],
)
def test_bad_parameters_show_a_message_not_a_500(client, fake, viewer, params, message):
    # given / when
    response = client.get(URL, params)

    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert message in html
    assert 'id="section-growth"' not in html
    assert fake.calls == []


def test_figures_and_help_texts_are_shown(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then
    # revenue and total deal size: the short form, the full amount on hover, no cents
    assert 'title="IDR\u00a030,000,000">IDR\u00a030M<' in html
    assert 'title="IDR\u00a03,100,001">IDR\u00a03.1M<' in html  # average lifetime value
    assert "3,100,000.50" not in html
    assert "61.25%" in html
    assert "72.5<" in html  # a decimal figure: trailing zero dropped
    assert "Customers first seen on or before the end of the period." in html
    assert "100 × customers with won deals / customers with deals." in html


def test_chart_data_is_embedded_with_json_script(client, fake, viewer):
    # given / when
    response = client.get(URL, {"preset": "last_month"})

    # then
    charts = json.loads(
        response.content.decode()
        .split('id="insights-charts" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert charts["growth"]["labels"] == ["2026-01-01", "2026-02-01"]
    assert charts["growth"]["series"] == {
        "total": [100, 120],
        "new": [10, 20],
        "inactive": [60, 70],
    }
    assert charts["source"]["labels"] == ["WhatsApp", "Other", "Referral & Co"]
    assert charts["association"]["series"]["pct"] == [30.0, 40.0]
    assert charts["segments"]["series"]["customers"][0] == 3
    assert len(charts["segments"]["labels"]) == 10


def test_drill_down_links_carry_the_interface_querystring(client, fake, viewer):
    # given
    today = date(2026, 3, 10)

    # when
    with mock.patch("insights.periods.local_today", return_value=today):
        html = client.get(URL, {"preset": "last_month", "scope": "new"}).content.decode()

    # then: February 2026 is the period; & is escaped in HTML attributes
    base = "/admin/customers/customer/?"
    assert (
        f"{base}source=WhatsApp&amp;first_seen_from=2026-02-01&amp;first_seen_to=2026-02-28" in html
    )
    assert f"{base}source=Other&amp;first_seen_from=2026-02-01" in html
    assert f"{base}source=Referral+%26+Co&amp;" in html
    assert f"{base}company=none&amp;" in html
    assert f"{base}company=7&amp;" in html
    assert f"{base}segment=Champions&amp;rfm_start=2026-02-01&amp;rfm_end=2026-02-28" in html
    assert f"{base}segment=Can%27t+Lose+Them&amp;rfm_start=2026-02-01" in html
    assert f"{base}r=5&amp;f=5&amp;rfm_start=2026-02-01&amp;rfm_end=2026-02-28" in html
    assert f"{base}first_seen_from=2026-01-01&amp;first_seen_to=2026-01-31" in html
    assert (
        "/api/v1/customers/?format=csv&amp;segment=Champions&amp;rfm_start=2026-02-01"
        "&amp;rfm_end=2026-02-28" in html
    )


def test_demographics_for_all_customers_filter_base_of_the_period(client, fake, viewer):
    # given / when
    html = client.get(
        URL, {"preset": "custom", "start": "2026-02-01", "end": "2026-02-28"}
    ).content.decode()

    # then: Base(P) = first seen on or before the end
    assert "/admin/customers/customer/?source=WhatsApp&amp;first_seen_to=2026-02-28" in html
    assert next(kw for name, kw in fake.calls if name == "demographics")["scope"] == "all"


def test_rfm_grid_is_coloured_by_count(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then: 3 is the top count (heat 5); 1 of 3 rounds up to heat 2; empty cells heat 0
    assert html.count('class="heat-5"') == 1
    assert html.count('class="heat-2"') == 1
    assert html.count('class="heat-0"') == 23


def test_order_and_scope_switches_keep_the_period(client, fake, viewer):
    # given / when
    html = client.get(URL, {"preset": "this_year", "order": "revenue"}).content.decode()

    # then
    assert next(kw for name, kw in fake.calls if name == "top_products")["order"] == "revenue"
    assert 'href="?granularity=auto&amp;scope=all&amp;order=frequency&amp;preset=this_year"' in html
    assert 'href="?granularity=auto&amp;scope=new&amp;order=revenue&amp;preset=this_year"' in html


def test_query_count_is_bounded(client, fake, viewer, django_assert_max_num_queries):
    # given: the figures themselves come from the (fake) rollup queries
    # when / then: session, user, and the permission checks only
    with django_assert_max_num_queries(5):
        assert client.get(URL).status_code == 200


def test_recompute_button_only_for_run_rebuild(client, fake, db):
    # given
    client.force_login(_staff("view_insights"))
    without = client.get(URL).content.decode()
    client.force_login(_staff("view_insights", "run_rebuild"))

    # when
    with_perm = client.get(URL).content.decode()

    # then
    assert "Recompute now" not in without
    assert "Recompute now" in with_perm
    assert 'action="/admin/insights/dashboard/recompute/"' in with_perm


def test_recompute_queues_the_task_and_redirects_back(client, fake, db):
    # given
    client.force_login(_staff("view_insights", "run_rebuild"))
    queued = RebuildRequest(Outcome.QUEUED, "Rebuild queued; the figures update when it finishes.")

    # when
    with mock.patch("insights.dashboards.views.rebuild_request", return_value=queued) as ask:
        response = client.post(
            reverse("insights_recompute"), {"next": URL + "?preset=this_month"}, follow=True
        )

    # then
    assert ask.call_args.kwargs["trigger"].startswith("admin:user")
    assert response.redirect_chain == [(URL + "?preset=this_month", 302)]
    assert "Rebuild queued" in response.content.decode()


def test_recompute_never_redirects_off_site(client, fake, db):
    # given
    client.force_login(_staff("view_insights", "run_rebuild"))
    queued = RebuildRequest(Outcome.QUEUED, "queued")

    # when
    with mock.patch("insights.dashboards.views.rebuild_request", return_value=queued):
        response = client.post(reverse("insights_recompute"), {"next": "https://evil.example/"})

    # then
    assert response["Location"] == URL


def test_recompute_needs_the_permission_and_post(client, fake, db):
    # given
    client.force_login(_staff("view_insights"))

    # when
    forbidden = client.post(reverse("insights_recompute"))
    client.force_login(_staff("view_insights", "run_rebuild"))
    not_allowed = client.get(reverse("insights_recompute"))

    # then
    assert forbidden.status_code == 403
    assert not_allowed.status_code == 405


def test_recompute_failure_is_a_message(client, fake, db):
    # given
    client.force_login(_staff("view_insights", "run_rebuild"))
    down = RebuildRequest(Outcome.UNREACHABLE, "The rebuild could not be queued: broker down.")

    # when
    with mock.patch("insights.dashboards.views.rebuild_request", return_value=down):
        response = client.post(reverse("insights_recompute"), follow=True)

    # then
    assert response.status_code == 200
    assert "could not be queued" in response.content.decode()


def test_admin_index_links_the_dashboard_only_with_the_permission(client, fake, db):
    # given
    client.force_login(_staff())
    without = client.get("/admin/").content.decode()
    client.force_login(_staff("view_insights"))

    # when
    with_perm = client.get("/admin/").content.decode()

    # then
    assert URL not in without
    assert f'href="{URL}"' in with_perm


def test_no_inline_script_beyond_json_data(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then: every <script> either loads a static file or carries JSON data
    scripts = html.split("<script")[1:]
    assert scripts
    for script in scripts:
        head = script.split(">")[0]
        assert "src=" in head or 'type="application/json"' in head, head


def test_query_count_constant_with_capture(client, fake, viewer):
    # given
    with CaptureQueriesContext(connection) as first:
        client.get(URL, {"preset": "last_7_days"})

    # when
    with CaptureQueriesContext(connection) as second:
        client.get(URL, {"preset": "last_year", "granularity": "day"})

    # then
    assert len(first) == len(second)


def test_customer_value_section(client, fake, viewer):
    # when (the fake fit has a passed holdout)
    html = client.get(URL, {"preset": "last_year"}).content.decode()
    # then: figures with their explanation, the drill-down, both charts' data, the details
    section = html.split('id="section-value"')[1]
    assert "Customer value (predicted)" in section
    assert "123,457" in section  # IDR is shown without cents
    # the drill-down lists the card's at-risk customers, as of the card's date (last year's end)
    end = parse_period(preset="last_year").end.isoformat()
    assert f'href="/admin/customers/customer/?value=at_risk&amp;value_as_of={end}"' in section
    assert f"The link lists the customers at risk as of {end}" in section
    assert ">321<" in section
    assert "probability of still buying from you is below 50%" in section
    assert 'id="insights-value-charts"' in section
    assert 'data-value-chart="histogram"' in section
    assert 'data-value-chart="holdout"' in section
    assert "<summary>Model details</summary>" in section
    assert "insights/value.js" in section


def test_customer_value_section_not_fitted(client, fake, viewer, monkeypatch):
    # given
    payload = fake.customer_value(period=_period())
    payload.update(fitted=False, holdout=None)
    monkeypatch.setattr("insights.customer_value.customer_value", lambda **_: payload)
    # when
    html = client.get(URL).content.decode()
    # then: no figures, no guesses, the reason in plain words
    section = html.split('id="section-value"')[1]
    assert "The model could not be fitted" in section
    assert "insights-value-charts" not in section


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("few_repeat", "Fewer than 10 customers bought on more than one day"),
        ("boundary", "they all buy at nearly the same pace"),
        ("infinite_mean", "check won deals for amounts entered wrongly"),
        ("no_convergence", "tell your administrator"),
    ],
)
def test_customer_value_not_fitted_says_why_and_what_to_do(
    client, fake, viewer, monkeypatch, reason, words
):
    # given a fit that failed for `reason`
    payload = fake.customer_value(period=_period())
    payload.update(fitted=False, holdout=None, reason=reason)
    monkeypatch.setattr("insights.customer_value.customer_value", lambda **_: payload)
    # when
    html = client.get(URL).content.decode()
    # then
    section = html.split('id="section-value"')[1].split("</section>")[0]
    assert words in section
    assert "What to do" in section


def test_model_check_shown_over_the_days_that_have_passed(client, fake, viewer, monkeypatch):
    # given: A + 365 is after today, so the 365-day fit has no holdout, but days after A passed
    calls = []

    def value(*, period, horizon=365, model="mbgnbd"):
        calls.append(horizon)
        payload = fake.customer_value(period=period, horizon=horizon)
        if horizon == 365:
            payload["holdout"] = None
        return payload

    monkeypatch.setattr("insights.customer_value.customer_value", value)
    # when: last quarter, whose as-of date is 30 Sep 2025; today is fixed by the fake clock
    html = client.get(URL, {"start": "2025-07-01", "end": "2025-09-30"}).content.decode()
    # then: the check is there, over the passed days (at most 730)
    section = html.split('id="section-value"')[1].split("</section>")[0]
    assert 'data-value-chart="holdout"' in section
    assert calls[0] == 365 and 1 <= calls[1] <= 730
    assert f"Over the {calls[1]} days after the as-of date." in section


def test_p_alive_histogram_tells_one_time_and_repeat_buyers_apart(client, fake, viewer):
    html = client.get(URL, {"preset": "last_year"}).content.decode()
    data = html.split('id="insights-value-charts" type="application/json">')[1].split("<")[0]
    series = json.loads(data)["histogram"]["series"]
    # the fake: totals [300, ...] of which repeat [100, ...]
    assert series["repeat"][0] == 100 and series["one_time"][0] == 200
    assert [a + b for a, b in zip(series["one_time"], series["repeat"], strict=True)] == [
        300,
        120,
        80,
        60,
        50,
        40,
        30,
        20,
        10,
        1647,
    ]


def _period():
    from insights.periods import Period

    return Period(date(2025, 1, 1), date(2025, 12, 31))


def test_charts_name_countries_and_mark_all_others(client, fake, viewer):
    # given / when: an Indonesian reader
    client.cookies["django_language"] = "id"
    response = client.get(URL, {"preset": "last_month"}, HTTP_ACCEPT_LANGUAGE="id")

    # then: the country chart reads names in the reader's language, the drill-down keeps codes,
    # and "All others" is marked so it gets a colour of its own (issue 32 item 11)
    charts = json.loads(
        response.content.decode()
        .split('id="insights-charts" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert charts["country"]["labels"] == ["Indonesia", "Semua lainnya"]
    assert charts["country"]["others"] == [False, True]
    assert "country=ID" in charts["country"]["urls"][0]
    assert charts["country"]["urls"][1] is None
    assert charts["source"]["others"] == [False, False, False]


def test_customer_health_section_and_its_backtest_sentence(client, fake, viewer):
    html = client.get(URL, {"preset": "last_year"}).content.decode()
    section = html.split('id="section-health"')[1].split("</section>")[0]
    assert "Customer health" in section
    assert ">52.25<" in section
    assert 'id="health-backtest"' in section and "61.11%" in section
    assert "The score works on your data: 61.11% of the customers it called healthy" in section
    # a past as-of date: the list filters on today's scores, so no band link is offered
    assert "?health=" not in section
