"""insights/customer-value/, and p_alive / predicted_clv on customers/ (METRICS.md V)."""

from datetime import date
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest

from insights.models import CustomerValue, CustomerValueFit
from insights.rebuild import insights_rebuild
from tests.factories import ContactFactory, DealFactory, StageFactory

from .conftest import at, make_customer

URL = "/api/v1/insights/customer-value/"
LIST = "/api/v1/customers/"
TODAY = date(2026, 6, 30)
YEAR_2025 = {"start": "2025-01-01", "end": "2025-12-31"}


@pytest.fixture(autouse=True)
def _today():
    with mock.patch("insights.customer_value.local_today", return_value=TODAY):
        yield


# 40 customers simulated once from the models themselves (BG/NBD: r = 1.2, α = 60 days,
# drop-out p ~ Beta(2, 5); spend per buying day gamma-distributed per customer), written out
# in tests/data/clv_people.txt, one line per customer of "close date:amount", so the test does
# not depend on a random generator.
PEOPLE = (Path(__file__).resolve().parents[2] / "data" / "clv_people.txt").read_text().splitlines()


def _people(*, limit: int = len(PEOPLE)) -> dict[int, object]:
    """The first `limit` PEOPLE as contacts with one won deal per buying day."""
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    contacts = {}
    for i, history in enumerate(PEOPLE[:limit]):
        contacts[i] = contact = ContactFactory(first_name=f"P{i}", created_at=at("2023-12-01"))
        for purchase in history.split():
            day, amount = purchase.split(":")
            DealFactory(
                contact=contact, stage=won, amount=Decimal(amount),
                created_at=at(day), closed_at=at(day),
            )  # fmt: skip
    return contacts


@pytest.mark.django_db
def test_fitted_figures_and_no_holdout_before_the_horizon_has_passed(api):
    # given 40 customers, 28 of them with a repeat buying day by 2025-12-31
    _people()
    insights_rebuild(trigger="test")
    # when A + H = 2026-12-31 is after today (30 Jun 2026)
    body = api.get(URL, YEAR_2025).json()
    # then
    assert body["fitted"] is True
    assert body["model"] == "mbgnbd"
    assert body["as_of"] == "2025-12-31"
    assert body["horizon"] == 365
    assert body["customers"] == 40
    assert all(isinstance(v, float) for v in body["parameters"].values())
    assert isinstance(body["log_likelihood"], float)
    assert sum(body["p_alive_histogram"]) == 40
    assert 0 < body["customers_at_risk"] <= 40
    assert Decimal(body["revenue_at_risk"]) > 0
    assert Decimal(body["predicted_revenue"]) > 0
    assert (
        body["predicted_revenue"].count(".") == 1
        and len(body["predicted_revenue"].split(".")[1]) == 2
    )
    assert body["holdout"] is None


@pytest.mark.django_db
def test_bgnbd_calls_every_one_time_buyer_alive_and_mbgnbd_does_not(api):
    # given 40 customers, 12 of them with a single buying day by 2025-12-31
    _people()
    insights_rebuild(trigger="test")
    # when
    bg = api.get(URL, {**YEAR_2025, "model": "bgnbd"}).json()
    mbg = api.get(URL, YEAR_2025).json()
    # then: BG/NBD puts the 12 one-time customers at P(alive) = 1, the last tenth
    assert bg["model"] == "bgnbd" and bg["fitted"] is True
    assert bg["p_alive_histogram"][9] >= 12
    # MBG/NBD's parameters differ, and its at-risk count may include one-time buyers
    assert mbg["parameters"]["r"] != bg["parameters"]["r"]
    assert mbg["p_alive_histogram"][9] < bg["p_alive_histogram"][9]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["pareto", "BGNBD", "mbg"])
def test_unknown_model_is_a_400_naming_it(api, value):
    response = api.get(URL, {"model": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["model"]


@pytest.mark.django_db
def test_holdout_counts_buying_days_after_the_as_of_date(api):
    # given
    _people()
    insights_rebuild(trigger="test")
    # when A + H = 2026-04-30 has passed
    body = api.get(URL, {**YEAR_2025, "horizon": "120"}).json()
    # then the 12 buying days of PEOPLE in 2026-01-01 .. 2026-04-30, by calibration x
    holdout = body["holdout"]
    assert holdout["actual_purchases"] == 12
    rows = {row["x"]: row for row in holdout["by_x"]}
    assert list(rows) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert [rows[k]["customers"] for k in rows] == [12, 7, 4, 6, 3, 2, 2, 4]
    actual = [rows[k]["actual"] for k in rows]
    assert actual == pytest.approx([0, 2 / 7, 0, 1 / 6, 2 / 3, 0, 0, 7 / 4])
    assert holdout["expected_purchases"] == pytest.approx(
        sum(row["customers"] * row["expected"] for row in holdout["by_x"])
    )


@pytest.mark.django_db
def test_too_few_repeat_customers_is_not_fitted(api):
    # given 14 customers, 9 with a repeat day (PEOPLE 1, 3-6, 9-12)
    _people(limit=14)
    insights_rebuild(trigger="test")
    # when
    body = api.get(URL, YEAR_2025).json()
    # then
    assert body["fitted"] is False
    assert body["customers"] == 14
    assert body["parameters"] == dict.fromkeys(("r", "alpha", "a", "b", "p", "q", "gamma"))
    for name in ("log_likelihood", "predicted_revenue", "customers_at_risk", "revenue_at_risk",
                 "p_alive_histogram", "holdout"):  # fmt: skip
        assert body[name] is None, name
    # and the stored table has no guesses either
    assert CustomerValue.objects.count() == 0
    assert CustomerValueFit.objects.get().fitted is False


@pytest.mark.django_db
def test_stored_values_one_time_buyer_is_alive_with_the_population_mean(api):
    # given
    contacts = _people()
    insights_rebuild(trigger="test")
    fit = CustomerValueFit.objects.get()
    contacts[0].refresh_from_db()
    one_time = contacts[0].customer_id  # one buying day, 2024-05-01
    # then: under MBG/NBD x = 0 gives P(alive) = 1 / (1 + a/b · ((α + T)/α)^r) < 1, T the days
    # from 2024-05-01 to today (2026-06-30), and the mean value pγ / (q − 1)
    stored = CustomerValue.objects.get(customer_id=one_time)
    T = (TODAY - date(2024, 5, 1)).days
    by_hand = 1 / (1 + fit.a / fit.b * ((fit.alpha + T) / fit.alpha) ** fit.r)
    assert fit.model == "mbgnbd"
    assert stored.p_alive == pytest.approx(by_hand, rel=1e-12)
    assert stored.p_alive < 1.0
    assert stored.expected_value == Decimal(fit.p * fit.gamma / (fit.q - 1)).quantize(
        Decimal("0.01")
    )
    assert CustomerValue.objects.count() == 40
    # and the 360° API carries them
    detail = api.get(f"{LIST}{one_time}/").json()
    assert detail["p_alive"] == stored.p_alive
    assert detail["predicted_clv"] == str(stored.predicted_clv)
    assert detail["expected_purchases"] == pytest.approx(stored.expected_purchases)


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "731", "abc", "-5"])
def test_horizon_out_of_range_is_a_400_naming_it(api, value):
    response = api.get(URL, {"horizon": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["horizon"]


@pytest.mark.django_db
def test_list_filters_and_sorts_by_predicted_value(api):
    # given
    a, b, c = (make_customer(display_name=n) for n in "ABC")
    make_customer(display_name="D")  # no buying day: no value row, nulls
    for customer, alive, value in ((a, 0.9, "120.00"), (b, 0.3, "15.50"), (c, 0.6, "300.00")):
        CustomerValue.objects.create(
            customer=customer, p_alive=alive, expected_purchases=1.0,
            expected_value=Decimal("10"), predicted_clv=Decimal(value),
        )  # fmt: skip

    def names(**params):
        return [row["display_name"] for row in api.get(LIST, params).json()["results"]]

    # then
    assert names(p_alive_max="0.5") == ["B"]
    assert names(p_alive_min="0.6") == ["A", "C"]
    assert names(predicted_clv_min="100", predicted_clv_max="200") == ["A"]
    assert names(ordering="-predicted_clv") == ["C", "A", "B", "D"]
    assert names(ordering="p_alive") == ["B", "C", "A", "D"]
    row = api.get(LIST, {"ordering": "-p_alive"}).json()["results"][0]
    assert (row["p_alive"], row["predicted_clv"]) == (0.9, "120.00")
    assert api.get(LIST, {"ordering": "name"}).status_code == 400


@pytest.mark.django_db
def test_todays_figures_use_the_stored_fit(api):
    # given
    _people()
    insights_rebuild(trigger="test")
    fit = CustomerValueFit.objects.get()
    # when A = today (30 Jun 2026)
    body = api.get(URL, {"start": "2026-01-01", "end": "2026-12-31"}).json()
    # then: the same parameters and log-likelihood as the stored per-customer values
    assert body["as_of"] == "2026-06-30"
    assert body["parameters"] == {
        name: getattr(fit, name) for name in ("r", "alpha", "a", "b", "p", "q", "gamma")
    }
    assert body["log_likelihood"] == pytest.approx(fit.log_likelihood, rel=1e-9)
    total = sum(v.predicted_clv for v in CustomerValue.objects.all())
    assert Decimal(body["predicted_revenue"]) == pytest.approx(total, abs=Decimal("0.20"))
