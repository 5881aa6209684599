"""The rebuild's warm-up: every registry section's default figures for the preset periods.

Driven by the figure registry (insights.figures.SECTIONS): each section says which option
sets it is warmed with (`warm`, () for none) and for which periods (`warm_if`); a section
that compares with P′ is warmed for what each period is compared with too (comparison_period:
P′, or P″ for a period that has not ended), since the API and the dashboard read both. A new
section is warmed without an edit here.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import periods as period_rules
from ..comparison import comparison_period
from ..figures import SECTIONS, Section
from ..periods import Period
from . import cache


def section_warm_periods(
    section: Section, periods: Sequence[Period]
) -> tuple[list[Period], list[Period]]:
    """The periods the rebuild warms `section` for: those of `periods` its `warm_if` keeps
    (its whole figures), and (when it compares) what each of them is compared with (its
    compared figures, compare_run)."""
    chosen = [period for period in periods if section.warmed_for(period)]
    others: list[Period] = []
    if section.compares:
        today = period_rules.local_today()
        compared = [comparison_period(period, today) for period in chosen]
        others = [other for other in compared if other is not None]

    def unique(some: list[Period]) -> list[Period]:
        return list({(period.start, period.end): period for period in some}.values())

    return unique(chosen), unique(others)


def figures_warm(*, run_id: int, periods: Sequence[Period]) -> int:
    """Compute and store every section's warmed figures for `periods` under `run_id`; returns
    the cache rows written. Called by insights.rebuild after the run's commit."""
    with cache.warming(run_id) as collected:
        for section in SECTIONS:
            chosen, compared = section_warm_periods(section, periods)
            for options in section.warm:
                for period in chosen:
                    section.run(period=period, **options)
                for period in compared:
                    section.compare_run(period=period, **options)
    return len(collected)
