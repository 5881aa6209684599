"""The rebuild's warm-up follows the figure registry (insights.figures, insights.engine.warm).

A section added to the registry is warmed with no other edit; these tests fail when a section
whose figures go through the cache is read cold on a preset after a rebuild.
"""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

import pytest

from insights import comparison
from insights.engine import cache
from insights.figures import SECTIONS
from insights.models import FigureCache
from insights.periods import PRESETS, local_today, preset_period
from tests.insights.build import customer, deal, rebuild, room

pytestmark = [pytest.mark.django_db, pytest.mark.cache_warm]


def _world() -> None:
    """Customers, won, lost and open deals and a chat room in the last months."""
    today = local_today()

    def day(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    a, b = customer(day(200)), customer(day(40))
    deal(a, created=day(150), closed=day(120), outcome="won", amount="300.00")
    deal(a, created=day(20), closed=day(10), outcome="won", amount="120.00")
    deal(b, created=day(30), closed=day(5), outcome="lost", reason="Price")
    deal(b, created=day(3))
    room(b, created=day(2))


class _ColdRead(AssertionError):
    pass


def _reads_only_the_cache():
    """Patch the figure cache so that a figure it would compute fails; returns the names read."""
    names: list[str] = []
    real = cache.cached

    def cached_only(name, params, compute, *, shape):
        names.append(name)

        def cold():
            raise _ColdRead(f"{name} {params} was computed: the rebuild did not warm it")

        return real(name, params, cold, shape=shape)

    return names, patch("insights.engine.cache.cached", cached_only)


def _presets() -> list:
    today = local_today()
    return list({(p.start, p.end): p for p in (preset_period(n, today) for n in PRESETS)}.values())


def test_every_section_the_cache_holds_is_read_warm_on_every_preset_after_a_rebuild():
    # given: a rebuild (it warms every preset of every registry section, and P′ / P″)
    _world()
    rebuild()
    stored = FigureCache.objects.count()
    names, only_cache = _reads_only_the_cache()
    # when: every section is read as the dashboard and the API open it, with its comparison
    read: dict[str, set[str]] = {}
    with only_cache:
        for section in SECTIONS:
            for period in _presets():
                if section.warm and not section.warmed_for(period):
                    continue
                for options in section.warm or ({},):
                    names.clear()
                    try:
                        result = section.run(period=period, **options)
                        if section.compares:
                            comparison.headline_comparison(
                                section_key=section.key,
                                options={"period": period, **options},
                                current=result,
                            )
                    except _ColdRead as cold:
                        if section.warm:
                            raise
                        pytest.fail(f"{section.key} reads the cache but is not warmed: {cold}")
                    read.setdefault(section.key, set()).update(names)
    # then: nothing was computed or stored, and every section went through the cache
    assert FigureCache.objects.count() == stored
    assert {key for key, cached_names in read.items() if cached_names} == {s.key for s in SECTIONS}


CALLS: list[dict] = []


def recorded_compute(*, period):
    """The compute of a section the test adds to the registry."""
    CALLS.append({"period": period})
    return {}


def test_a_section_added_to_the_registry_is_warmed_with_no_other_edit():
    # given: a new section in the registry, with nothing said about warming
    from insights import figures

    title = figures.section("lost").title
    new = figures.Section("added", title, "§X", compute=f"{__name__}.recorded_compute")
    CALLS.clear()
    _world()
    # when: the rebuild runs with it in the registry
    with patch("insights.engine.warm.SECTIONS", [*figures.SECTIONS, new]):
        rebuild()
    # then: it was computed for every preset period
    assert {(c["period"].start, c["period"].end) for c in CALLS} == {
        (p.start, p.end) for p in _presets()
    }
