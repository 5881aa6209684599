"""The comparison's service figures (insights.service.service_headline: the every-room groups
only) equal the headline figures of the full payload of the same period, on random data; and
the two are cached apart, so a compared period's headline-only payload is never served as the
full figures of a request whose P is that period."""

import random
from dataclasses import fields
from datetime import date, timedelta

import pytest
from django.test import override_settings

from insights import service
from insights.comparison import comparison_period, headline_comparison
from insights.figures import compared_figures
from insights.models import FigureCache
from insights.periods import Period
from insights.service import HEADLINE_FIELDS, service_figures, service_headline
from tests.insights.build import rebuild
from tests.insights.test_service_random import HOURS, NOW, _build

pytestmark = pytest.mark.django_db


def test_the_headline_answer_holds_exactly_the_compared_figures():
    names = [f.name for f in fields(service.ServiceHeadline)]
    assert names == list(HEADLINE_FIELDS)
    assert set(names) == {f.field for f in compared_figures("service")}


@pytest.mark.parametrize(("seed", "step"), [(11, None), (12, None), (13, 1), (14, 2)])
@override_settings(INSIGHTS_BUSINESS_HOURS=HOURS)
def test_headline_only_equals_the_full_payloads_headline(seed, step, monkeypatch):
    # given: random rooms, targets on both clocks, holidays and answers (the random test's)
    rng = random.Random(seed)
    _build(rng)
    if step:  # percentiles read from a few blocks of many runs
        monkeypatch.setattr(service, "INDEX_STEP", step)
    rebuild(now=NOW)
    busy = 0
    for _ in range(10):
        start = date(2026, 1, 1) + timedelta(days=rng.randrange(-40, 40))
        period = Period(start, start + timedelta(days=rng.choice([0, 3, 19, 45, 80])))
        granularity = rng.choice(["auto", "day", "week", "month"])

        # when: the headline alone first (so nothing of the full payload is cached), then all
        headline = service_headline(period=period)
        full = service_figures(period=period, granularity=granularity)

        # then
        assert {name: getattr(headline, name) for name in HEADLINE_FIELDS} == {
            name: getattr(full, name) for name in HEADLINE_FIELDS
        }
        busy += full.rooms > 1 and full.median_resolution_s != full.p90_resolution_s
    assert busy >= 3  # the periods held rooms with distinct percentiles: the test can fail


@override_settings(INSIGHTS_BUSINESS_HOURS=HOURS)
def test_a_compared_period_is_cached_headline_only_and_never_served_as_full():
    # given: random data, and P whose comparison period P′ holds rooms of several channels
    _build(random.Random(21))
    rebuild(now=NOW)
    period = Period(date(2026, 1, 20), date(2026, 2, 8))
    before = comparison_period(period, date(2026, 12, 1))
    assert before == Period(date(2025, 12, 31), date(2026, 1, 19))
    FigureCache.objects.all().delete()

    # when: P is read with its comparison, as the API and dashboard do
    current = service_figures(period=period)
    compared = headline_comparison(
        section_key="service", options={"period": period, "granularity": "auto"}, current=current
    )
    stored = {
        tuple(key.split("|")[3:6]) for key in FigureCache.objects.values_list("key", flat=True)
    }

    # then: P′ was computed headline only (no full payload of P′ stored) ...
    p, q = (period.start, period.end), (before.start, before.end)
    assert stored == {("service", str(p[0]), str(p[1])), ("service_headline", str(q[0]), str(q[1]))}
    # ... and a request whose P is P′ gets its full figures, equal in their headline
    full = service_figures(period=before)
    assert full.by_channel and full.by_agent and full.trend
    assert compared["previous"] == {name: getattr(full, name) for name in HEADLINE_FIELDS}
