"""The figure registry: every section of METRICS.md and every figure, in one place.

Each `Section` says how it is computed (`compute`: "module.function" taking `period` and its
options, returning a dataclass or a dict), whether it compares with the previous period
(`compares`), and whether the dashboard shows it (`on_dashboard`). Each `Figure` has a key
(its API field unless `api_field` says otherwise), its section, a label, a help text that states
its definition in words a user can read (users never see the specification), a unit, whether
more of it is bad news (`up_is_bad`), whether it is a headline (one number; default: a scalar
unit) and whether a comparing section compares it (`compared`).

Built from the registry, with no list of their own: the API root (/api/v1/), each endpoint's
schema summary and description, the `previous`/`change_pct` serializer fields and the
comparison itself (insights.comparison.headline_comparison, for the API, the dashboard and
the service cards), the dashboard's headline cards (dashboards.core.section_cards), the XLSX
(a sheet per section: its headline rows, then dashboards.xlsx.TABLES[key] if any), and the
coverage test (tests/insights/api/test_registry_coverage.py), which fails when a section lacks
an endpoint documenting its headline figures, a dashboard section, an XLSX sheet or
Indonesian text.

How to add a section (4 places, plus its own compute module):
1. Here: a `Section(key, title, "METRICS.md §X", summary, compute="insights.x.x_figures",
   compares=...)` and a `Figure` per figure (scalar units become cards, XLSX rows and, when
   the section compares, compared fields).
2. The API: a serializer and a view decorated `@_insights_schema(Params, Serializer, "key")`
   (insights/api/views.py) whose `figures()` returns the answer, and one line in
   insights/api/urls.py. The root, schema texts and comparison follow.
3. The dashboard: a partial with `id="section-key"` whose cards come from
   `section_cards("key", result)` (or set `on_dashboard=False` until it has one).
4. locale/id/LC_MESSAGES/django.po: the Indonesian title, labels and help texts.
Optional: tables for its XLSX sheet in dashboards.xlsx.TABLES. The rebuild warms its default
figures for every preset (and P′ when it compares) with no other edit; `warm` and `warm_if`
change which (insights.engine.warm).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .section_params import COHORT_OFFSET, SECTION_PARAMS, Spec

Unit = Literal["count", "decimal", "pct", "money", "chart", "list"]
# A figure of one of these units is one number: a headline (card, XLSX row, comparison).
SCALAR_UNITS: tuple[Unit, ...] = ("count", "decimal", "pct", "money")


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    defined_in: str
    # One line for the API root (English, as the API's other descriptions).
    summary: str = ""
    # "module.function" computing the section: (period=..., **options) -> a dataclass whose
    # fields include every headline figure of the section by its key.
    compute: str = ""
    # Whether its headline figures are compared with the previous period (METRICS.md 4).
    compares: bool = False
    # Headline figures of another section that this one reports too (sales' total_customers).
    also_reports: tuple[str, ...] = ()
    # Whether the dashboard has a section for it (the coverage test holds it to that).
    on_dashboard: bool = True
    # How the rebuild warms the cache after its commit (insights.engine.warm): `compute` is
    # called for each preset period with each of these option sets (() for none), and, when
    # the section compares, for what each period is compared with too.
    warm: tuple[Mapping[str, Any], ...] = ({},)
    # "module.function" (period) -> bool keeping the presets it is warmed for (default: all).
    warm_if: str = ""
    # "module.function" computing only the compared headline figures, for what a period is
    # compared with (P′ / P″): the comparison reads nothing else, and a section whose whole
    # payload is costly (service: channels, agents, trend) need not compute it twice. Its
    # answer must be a dataclass of its own (the figure cache keys by it). Default: compute.
    compare_compute: str = ""

    @property
    def params(self) -> Mapping[str, Spec]:
        """The section's options with their bounds, defaults and choices (section_params): what
        the API, the admin customer filters and the dashboard all parse them with."""
        return SECTION_PARAMS.get(self.key, {})

    def run(self, **options: Any) -> Any:
        """The section's figures for options["period"]; options it does not take are left out
        (a page passes all of its choices: granularity, lost_after, event, ...)."""
        return _call(self.compute, options)

    def compare_run(self, **options: Any) -> Any:
        """The compared headline figures for options["period"] (compare_compute, else run)."""
        return _call(self.compare_compute or self.compute, options)

    def warmed_for(self, period: Any) -> bool:
        """Whether the rebuild warms this section's figures for the preset `period`."""
        if not self.warm:
            return False
        return not self.warm_if or bool(import_string(self.warm_if)(period))

    def headline_values(self, result: Any) -> dict[str, Any]:
        """{key: value} of the section's headline figures, from what run() returned."""

        def value(key: str) -> Any:
            return result[key] if isinstance(result, Mapping) else getattr(result, key)

        return {f.key: value(f.field) for f in headline_figures(self.key)}


def _call(path: str, options: Mapping[str, Any]) -> Any:
    function = import_string(path)
    accepted = inspect.signature(function).parameters
    return function(**{name: value for name, value in options.items() if name in accepted})


@dataclass(frozen=True)
class Figure:
    key: str
    section: str
    label: Promise
    help: Promise
    unit: Unit
    defined_in: str
    # More of it is bad news (the dashboard's arrow turns red when it goes up).
    up_is_bad: bool = False
    # A single number shown as a card (default: when its unit is a scalar one).
    headline: bool | None = None
    # Whether a section that compares with P′ compares this headline figure too.
    compared: bool = True
    # Its name in the section's answer (API field, result attribute) when the key, unique
    # across the registry, differs (health's `customers` is `health_customers` here).
    api_field: str = ""

    @property
    def field(self) -> str:
        return self.api_field or self.key

    @property
    def is_headline(self) -> bool:
        return self.unit in SCALAR_UNITS if self.headline is None else self.headline


SECTIONS: list[Section] = [
    Section(
        "growth",
        _("Customer growth"),
        "METRICS.md §4.A",
        "Total, new and inactive customers of the period, with a trend and P′ comparison.",
        compute="insights.queries.growth_overview",
        compares=True,
    ),
    Section(
        "demographics",
        _("Customers by source, company, country and city"),
        "METRICS.md §4.B",
        "Customers per source, company, country and city (all, or new in the period).",
        compute="insights.queries.demographics",
        warm=({"scope": "all"}, {"scope": "new"}),
    ),
    Section(
        "sales",
        _("Sales lifecycle"),
        "METRICS.md §4.C",
        "Customers with deals, deal association and deal sizes, with a trend.",
        compute="insights.queries.sales_lifecycle",
        compares=True,
        also_reports=("total_customers",),
    ),
    Section(
        "lost",
        _("Lost reasons"),
        "METRICS.md §4.E",
        "Lost deals and customers per reason.",
        compute="insights.queries.lost_reasons",
    ),
    Section(
        "products",
        _("Top products"),
        "METRICS.md §4.F",
        "Products of won deals by frequency or revenue.",
        compute="insights.queries.top_products",
    ),
    Section(
        "rfm",
        _("RFM segmentation"),
        "METRICS.md §4.R",
        "Customers and revenue per RFM group (recency × frequency).",
        compute="insights.queries.rfm_groups",
    ),
    Section(
        "revenue",
        _("Revenue"),
        "METRICS.md §4.K",
        "Revenue KPIs: revenue, paying customers, order value, win rate, per-day figures.",
        compute="insights.queries.revenue_kpis",
        compares=True,
    ),
    Section(
        "lifecycle",
        _("Buyer lifecycle"),
        "METRICS.md §G",
        "New, returning and lost buyers, buyer churn and retention, with a trend.",
        compute="insights.lifecycle.buyer_lifecycle",
        compares=True,
    ),
    Section(
        "retention",
        _("Retention by cohort"),
        "METRICS.md §H",
        f"Monthly cohorts and the share retained {COHORT_OFFSET.low} to {COHORT_OFFSET.high} "
        "months later.",
        compute="insights.lifecycle.cohort_retention",
    ),
    Section(
        "service",
        _("Customer service"),
        "METRICS.md §S",
        "Chat rooms, response and resolution times, CSAT, FCR, NPS and CES.",
        compute="insights.service.service_figures",
        compares=True,
        compare_compute="insights.service.service_headline",
        warm_if="insights.service.service_warms",
    ),
    Section(
        "value",
        _("Customer value (predicted)"),
        "METRICS.md §V",
        "Predicted revenue, customers and revenue at risk, from the BG/NBD model.",
        compute="insights.customer_value.customer_value_figures",
    ),
    Section(
        "forecast",
        _("Pipeline and forecast"),
        "METRICS.md §P",
        "Open pipeline by stage, weighted and at the historical win rate; expected repeat revenue.",
        compute="insights.forecast.forecast",
        warm_if="insights.forecast.forecast_warms",
    ),
    Section(
        "health",
        _("Customer health"),
        "METRICS.md §Q",
        "Customers scored 0-100 from P(alive), recency, chat ratings and NPS, by band.",
        compute="insights.health.customer_health",
    ),
    Section(
        "owners",
        _("Team: sales by owner"),
        "METRICS.md §O",
        "Per deal owner: won and lost deals, revenue, win rate, cycle, pipeline, target.",
        compute="insights.owners.sales_by_owner",
    ),
]

FIGURES: list[Figure] = [
    # --- Customer growth ---------------------------------------------------------------------
    Figure(
        "total_customers",
        "growth",
        _("Total customers"),
        _("Customers first seen on or before the end of the period."),
        "count",
        "METRICS.md §4.A",
    ),
    Figure(
        "new_customers",
        "growth",
        _("New customers"),
        _("Customers first seen in the period."),
        "count",
        "METRICS.md §4.A",
    ),
    Figure(
        "monthly_avg_new_customers",
        "growth",
        _("Monthly average new customers"),
        _(
            "New customers divided by the period's length in months: a whole month counts 1, "
            "part of a month its share of that month's days."
        ),
        "decimal",
        "METRICS.md §4.A",
    ),
    Figure(
        "inactive_customers",
        "growth",
        _("Inactive customers"),
        _(
            "Customers first seen on or before the end of the period with no chat room created "
            "in the period and no deal created in the period."
        ),
        "count",
        "METRICS.md §4.A",
        up_is_bad=True,
    ),
    Figure(
        "monthly_avg_inactive_customers",
        "growth",
        _("Monthly average inactive customers"),
        _(
            "Mean, over the months of the period, of the inactive customers for each month (cut "
            "to the period)."
        ),
        "decimal",
        "METRICS.md §4.A",
        up_is_bad=True,
    ),
    Figure(
        "growth_trend",
        "growth",
        _("Customer growth"),
        _(
            "Per bucket: total customers first seen by its end, new customers first seen in it, "
            "and customers inactive in it."
        ),
        "chart",
        "METRICS.md §4.A",
    ),
    # --- Demographics ------------------------------------------------------------------------
    Figure(
        "by_source",
        "demographics",
        _("Customers by source"),
        _(
            "Customers per source: the first of their records, by creation time, with a source "
            "or channel. Other: none."
        ),
        "list",
        "METRICS.md §4.B",
    ),
    Figure(
        "by_company",
        "demographics",
        _("Customers by company"),
        _(
            "Customers per company: the company of their first CRM contact that has one. "
            "Other: none."
        ),
        "list",
        "METRICS.md §4.B",
    ),
    Figure(
        "by_country",
        "demographics",
        _("Customers by country"),
        _(
            "Customers per country: of their first CRM contact that has one, else the country of "
            "their first phone number. Other: none. The rest of the list is summed in All others."
        ),
        "list",
        "METRICS.md §4.B",
    ),
    Figure(
        "by_city",
        "demographics",
        _("Customers by city"),
        _("Customers per city: the city of their first CRM contact that has one. Other: none."),
        "list",
        "METRICS.md §4.B",
    ),
    # --- Sales lifecycle ---------------------------------------------------------------------
    Figure(
        "customers_with_deals",
        "sales",
        _("Customers with deals"),
        _("Customers with at least one deal created in the period."),
        "count",
        "METRICS.md §4.C",
    ),
    Figure(
        "deal_association_pct",
        "sales",
        _("Deal association"),
        _("100 × customers with deals / total customers."),
        "pct",
        "METRICS.md §4.C",
    ),
    Figure(
        "association_trend",
        "sales",
        _("Deal association %"),
        _("Deal association (%) computed for each bucket."),
        "chart",
        "METRICS.md §4.C",
    ),
    Figure(
        "customers_with_won_deals",
        "sales",
        _("Customers with won deals"),
        _(
            "Customers with at least one deal created in the period that is won (even if it "
            "closed after the period)."
        ),
        "count",
        "METRICS.md §4.C",
    ),
    Figure(
        "won_customers_pct",
        "sales",
        _("Won customers (% of customers with deals)"),
        _("100 × customers with won deals / customers with deals."),
        "pct",
        "METRICS.md §4.C",
    ),
    Figure(
        "total_deal_size",
        "sales",
        _("Total deal size"),
        _("Sum of the values of the deals created in the period."),
        "money",
        "METRICS.md §4.C",
    ),
    Figure(
        "avg_deal_size_per_customer",
        "sales",
        _("Average deal size per customer"),
        _("Total deal size / customers with deals."),
        "money",
        "METRICS.md §4.C",
    ),
    # --- Lost reasons ------------------------------------------------------------------------
    Figure(
        "lost_reasons",
        "lost",
        _("Lost reasons"),
        _(
            "Lost deals whose close date is in the period, per lost reason (blank: "
            "Unspecified): deals, and distinct customers among them."
        ),
        "list",
        "METRICS.md §4.E",
    ),
    # --- Top products ------------------------------------------------------------------------
    Figure(
        "top_products",
        "products",
        _("Top products"),
        _(
            "Won deals whose close date is in the period, per product: won deals that include "
            "it, quantity and line revenue."
        ),
        "list",
        "METRICS.md §4.F",
    ),
    # --- RFM ---------------------------------------------------------------------------------
    Figure(
        "rfm_grid",
        "rfm",
        _("Recency × frequency"),
        _(
            "Customers with a won deal closed in the period, by recency score (R) and "
            "frequency score (F), 1 to 5. R is where in the period the last purchase fell, "
            "counted up to today: in the latest fifth 5, in the earliest fifth 1."
        ),
        "chart",
        "METRICS.md §4.R",
    ),
    Figure(
        "rfm_segments",
        "rfm",
        _("RFM segments"),
        _(
            "The segment follows from the R and F scores; revenue is the value of the "
            "segment's won deals closed in the period."
        ),
        "list",
        "METRICS.md §4.R",
    ),
    # --- Revenue -----------------------------------------------------------------------------
    Figure(
        "revenue",
        "revenue",
        _("Revenue"),
        _("Values of won deals that belong to a customer, dated by close date, in the period."),
        "money",
        "METRICS.md §4.K",
    ),
    Figure(
        "paying_customers",
        "revenue",
        _("Paying customers"),
        _("Customers with at least one won deal in the period."),
        "count",
        "METRICS.md §4.K",
    ),
    Figure(
        "avg_revenue_per_customer",
        "revenue",
        _("Average revenue per customer"),
        _("Revenue / paying customers."),
        "money",
        "METRICS.md §4.K",
    ),
    Figure(
        "top_20pct_revenue_share",
        "revenue",
        _("Revenue share of the top 20%"),
        _(
            "Revenue of the top ⌈0.2 × paying customers⌉ customers by their revenue in the "
            "period, as a share of revenue (%)."
        ),
        "pct",
        "METRICS.md §4.K",
    ),
    Figure(
        "avg_lifetime_value",
        "revenue",
        _("Average lifetime value"),
        _(
            "Revenue closed on or before the end of the period / customers with at least one "
            "won deal closed by then."
        ),
        "money",
        "METRICS.md §4.K",
    ),
    Figure(
        "one_time_customers",
        "revenue",
        _("One-time customers"),
        _("Paying customers with exactly 1 won deal closed on or before the end of the period."),
        "count",
        "METRICS.md §4.K",
    ),
    Figure(
        "repeat_customers",
        "revenue",
        _("Repeat customers"),
        _("Paying customers with 2 or more won deals closed on or before the end of the period."),
        "count",
        "METRICS.md §4.K",
    ),
    # --- Revenue: Putler's per-order and per-day figures ----------------------------------------
    Figure(
        "won_deals",
        "revenue",
        _("Won deals"),
        _("Won deals closed in the period that belong to a customer."),
        "count",
        "METRICS.md §4.K",
    ),
    Figure(
        "avg_order_value",
        "revenue",
        _("Average order value"),
        _("Revenue / won deals."),
        "money",
        "METRICS.md §4.K",
    ),
    Figure(
        "win_rate_pct",
        "revenue",
        _("Win rate"),
        _(
            "100 × won deals / (won deals + lost deals closed in the period that belong to a "
            "customer)."
        ),
        "pct",
        "METRICS.md §4.K",
    ),
    Figure(
        "revenue_per_day",
        "revenue",
        _("Revenue per day"),
        _("Revenue / days in the period (all of them, even ahead)."),
        "money",
        "METRICS.md §4.K",
    ),
    Figure(
        "new_customers_per_day",
        "revenue",
        _("New customers per day"),
        _("New customers / days in the period."),
        "decimal",
        "METRICS.md §4.K",
    ),
    Figure(
        "hours_per_new_customer",
        "revenue",
        _("Hours between new customers"),
        _("A new customer every … hours: 24 × days in the period / new customers (0 when none)."),
        "decimal",
        "METRICS.md §4.K",
        up_is_bad=True,
    ),
    # --- Buyer lifecycle ----------------------------------------------------------------------
    Figure(
        "new_buyers",
        "lifecycle",
        _("New buyers"),
        _("Customers whose first purchase (won deal) closed in the period."),
        "count",
        "METRICS.md §G",
    ),
    Figure(
        "returning_buyers",
        "lifecycle",
        _("Returning buyers"),
        _("Customers who bought in the period and had bought before it started."),
        "count",
        "METRICS.md §G",
    ),
    Figure(
        "lost_buyers",
        "lifecycle",
        _("Lost buyers"),
        _(
            "Customers lost in the period: no purchase for the lapse window after a purchase;"
            " a lost day after today does not count yet."
        ),
        "count",
        "METRICS.md §G",
        up_is_bad=True,
    ),
    Figure(
        "active_buyers_start",
        "lifecycle",
        _("Active buyers at the start"),
        _("Customers with a purchase in the lapse window before the period starts."),
        "count",
        "METRICS.md §G",
    ),
    Figure(
        "churned_buyers",
        "lifecycle",
        _("Churned buyers"),
        _("Of those active at the start, the ones lost in the period."),
        "count",
        "METRICS.md §G",
        up_is_bad=True,
    ),
    Figure(
        "buyer_churn_pct",
        "lifecycle",
        _("Buyer churn"),
        _("100 × churned buyers / active buyers at the start."),
        "pct",
        "METRICS.md §G",
        up_is_bad=True,
    ),
    Figure(
        "buyer_retention_pct",
        "lifecycle",
        _("Buyer retention"),
        _("100 × (active buyers at the start − churned buyers) / active buyers at the start."),
        "pct",
        "METRICS.md §G",
    ),
    Figure(
        "lifecycle_trend",
        "lifecycle",
        _("New, returning and lost buyers"),
        _(
            "Per bucket: new buyers (first purchase), returning buyers (bought before too) "
            "and lost buyers (no purchase for the lapse window). A purchase is a won deal, "
            "dated by its close date."
        ),
        "chart",
        "METRICS.md §G",
    ),
    # --- Retention by cohort -----------------------------------------------------------------
    Figure(
        "retention",
        "retention",
        _("Retention by cohort"),
        _(
            "Each row is a monthly cohort; each column k the share of the cohort retained k "
            "months later: with “Purchase”, cohorts by first purchase and retained by a "
            "purchase in that month; with “Activity”, cohorts by first seen and retained by a"
            " chat or deal created."
        ),
        "chart",
        "METRICS.md §H",
    ),
    # --- Customer service ---------------------------------------------------------------------
    # Rooms count by the local date they were opened; the API's row, previous-period and
    # headline fields all read these texts.
    Figure(
        "rooms",
        "service",
        _("Rooms"),
        _("Chat rooms opened in the period (local dates, both ends included)."),
        "count",
        "METRICS.md §S",
    ),
    Figure(
        "resolved_rooms",
        "service",
        _("Resolved rooms"),
        _("Of the rooms opened in the period, those marked resolved."),
        "count",
        "METRICS.md §S",
    ),
    Figure(
        "median_first_response_s",
        "service",
        _("Median first response"),
        _(
            "Half of the answered rooms got their first reply within this time: the median of "
            "first reply − opening in whole seconds (rounded down) over the rooms opened in the "
            "period that got a reply, taken as the value at position ceil(0.5 × n) of the "
            "sorted times; 0 when no room got one."
        ),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "p90_first_response_s",
        "service",
        # xgettext:no-python-format
        _("90% first response"),
        _(  # xgettext:no-python-format
            "90% of the answered rooms got their first reply within this time: the value at "
            "position ceil(0.9 × n) of the same sorted times; 0 when no room got one."
        ),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "median_resolution_s",
        "service",
        _("Median resolution time"),
        _(
            "Half of the resolved rooms were resolved within this time: the median of "
            "resolution − opening in whole seconds (rounded down) over the resolved rooms "
            "opened in the period, at position ceil(0.5 × n); 0 when none is resolved."
        ),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "p90_resolution_s",
        "service",
        # xgettext:no-python-format
        _("90% resolution time"),
        _(  # xgettext:no-python-format
            "90% of the resolved rooms were resolved within this time: the value at position "
            "ceil(0.9 × n) of the same sorted times; 0 when none is resolved."
        ),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "resolution_pct",
        "service",
        _("Resolution rate"),
        _(  # xgettext:no-python-format
            "Resolved rooms as a % of the rooms opened in the period (0 when there are none)."
        ),
        "pct",
        "METRICS.md §S",
    ),
    Figure(
        "rated_rooms",
        "service",
        _("Rated rooms"),
        _("Rooms opened in the period that have a CSAT score (1–5)."),
        "count",
        "METRICS.md §S",
    ),
    Figure(
        "csat_avg",
        "service",
        _("CSAT"),
        _("Mean CSAT score (1–5) of the rated rooms, 2 decimal places (0 when none is rated)."),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "csat_pct",
        "service",
        _("Satisfied"),
        # xgettext:no-python-format
        _("% of the rated rooms scoring 4 or 5 (0 when none is rated)."),
        "pct",
        "METRICS.md §S",
    ),
    Figure(
        "fcr_pct",
        "service",
        _("First contact resolution"),
        _(  # xgettext:no-python-format
            "First contact resolution: % of the resolved rooms whose customer opened no other "
            "room, on any channel, within the 7 days after the resolution (0 when none is "
            "resolved)."
        ),
        "pct",
        "METRICS.md §S",
    ),
    Figure(
        "nps_responses",
        "service",
        _("NPS answers"),
        _("NPS survey answers (score 0–10) given in the period."),
        "count",
        "METRICS.md §S",
    ),
    Figure(
        "nps",
        "service",
        _("NPS"),
        _(  # xgettext:no-python-format
            "Net promoter score: % of NPS answers scoring 9–10 minus % scoring 0–6, from −100 "
            "to 100 (0 when there are none)."
        ),
        "decimal",
        "METRICS.md §S",
    ),
    Figure(
        "ces_responses",
        "service",
        _("CES answers"),
        _("Customer effort survey answers (score 1–7) given in the period."),
        "count",
        "METRICS.md §S",
    ),
    Figure(
        "ces_avg",
        "service",
        _("CES"),
        _("Mean customer effort score (1–7) of the answers in the period (0 when there are none)."),
        "decimal",
        "METRICS.md §S",
    ),
    # --- Service levels (METRICS.md §L): targets, business hours, backlog -----------------------
    Figure(
        "first_response_met",
        "service",
        _("First replies on time"),
        _(
            "Rooms opened in the period that have a first-reply target and got their first "
            "reply within it (on the target's clock: calendar or business hours), as of the "
            "last recalculation."
        ),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "first_response_breached",
        "service",
        _("First replies late"),
        _(
            "Rooms with a first-reply target that got their reply after it, or got none and "
            "have waited longer than the target at the last recalculation."
        ),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "first_response_pending",
        "service",
        _("First replies pending"),
        _("Rooms with a first-reply target still waiting for a reply, within the target."),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "first_response_met_pct",
        "service",
        _("First replies on target"),
        _(  # xgettext:no-python-format
            "On-time first replies as a % of the on-time and late ones (pending rooms are not "
            "counted; 0 when there are none)."
        ),
        "pct",
        "METRICS.md §L",
    ),
    Figure(
        "resolution_met",
        "service",
        _("Resolved on time"),
        _(
            "Rooms opened in the period that have a resolution target and were resolved "
            "within it (on the target's clock), as of the last recalculation."
        ),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "resolution_breached",
        "service",
        _("Resolved late"),
        _(
            "Rooms with a resolution target resolved after it, or not resolved and open "
            "longer than the target at the last recalculation."
        ),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "resolution_pending",
        "service",
        _("Resolutions pending"),
        _("Rooms with a resolution target still open, within the target."),
        "count",
        "METRICS.md §L",
    ),
    Figure(
        "resolution_met_pct",
        "service",
        _("Resolutions on target"),
        _(  # xgettext:no-python-format
            "Rooms resolved on time as a % of those on time and late (pending rooms are not "
            "counted; 0 when there are none)."
        ),
        "pct",
        "METRICS.md §L",
    ),
    Figure(
        "median_first_response_business_s",
        "service",
        _("Median first reply (business hours)"),
        _(
            "Half of the answered rooms got their first reply within this much business time "
            "(office hours less holidays, in whole seconds): the middle value of the sorted "
            "times; 0 when no room got one."
        ),
        "decimal",
        "METRICS.md §L",
        up_is_bad=True,
    ),
    Figure(
        "p90_first_response_business_s",
        "service",
        # xgettext:no-python-format
        _("90% first reply (business hours)"),
        _(  # xgettext:no-python-format
            "90% of the answered rooms got their first reply within this much business time; "
            "0 when no room got one."
        ),
        "decimal",
        "METRICS.md §L",
    ),
    Figure(
        "open_rooms",
        "service",
        _("Open rooms"),
        _(
            "Rooms not resolved at the last recalculation, whenever they were opened (the "
            "period does not change this figure)."
        ),
        "count",
        "METRICS.md §L",
        compared=False,  # as of now, whatever the period: not compared with P′ (§4)
    ),
    Figure(
        "backlog_age",
        "service",
        _("Open rooms by age"),
        _(
            "The open rooms by how long they have been open at the last recalculation: under "
            "1 hour, 1 to 24 hours, 1 to 7 days, over 7 days (exactly 1 hour counts as 1 to "
            "24 hours)."
        ),
        "chart",
        "METRICS.md §L",
    ),
    # --- Customer value (predicted) ------------------------------------------------------------
    Figure(
        "predicted_revenue",
        "value",
        _("Predicted revenue"),
        _(
            "What your customers are expected to spend in the next 365 days: for each customer, "
            "the expected number of buying days times the expected value of one, added up."
        ),
        "money",
        "METRICS.md §V",
    ),
    Figure(
        "customers",
        "value",
        _("Customers"),
        _(
            "Customers with at least one won deal closed on or before the as-of date: the "
            "customers the model learns from."
        ),
        "count",
        "METRICS.md §V",
    ),
    Figure(
        "customers_at_risk",
        "value",
        _("Customers at risk"),
        _(
            "Customers whose probability of still buying from you is below 50%, customers who "
            "bought only once included."
        ),
        "count",
        "METRICS.md §V",
    ),
    Figure(
        "revenue_at_risk",
        "value",
        _("Revenue at risk"),
        _(
            "What the customers at risk have spent with you so far (won deals closed on or "
            "before the as-of date)."
        ),
        "money",
        "METRICS.md §V",
    ),
    Figure(
        "p_alive",
        "value",
        _("P(alive)"),
        _(
            "P(alive): the probability that a customer still buys from you, from how often and "
            "how recently they bought."
        ),
        "decimal",
        "METRICS.md §V",
        headline=False,  # a distribution (the histogram), not one number
    ),
    # --- Pipeline and forecast ---------------------------------------------------------------
    Figure(
        "open_deals",
        "forecast",
        _("Open deals"),
        _("Open deals (neither won nor lost) whose expected close date is in the period."),
        "count",
        "METRICS.md §P",
    ),
    Figure(
        "open_value",
        "forecast",
        _("Pipeline value"),
        _("The sum of the values of those open deals."),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "weighted_value",
        "forecast",
        _("Weighted pipeline"),
        _(
            "The sum of each of those deals' value × its win probability (its own, else its "
            "stage's): what the reps expect."
        ),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "by_stage",
        "forecast",
        _("Pipeline by stage"),
        _("Those deals per stage, in pipeline order: deals, value and weighted value."),
        "chart",
        "METRICS.md §P",
    ),
    Figure(
        "overdue_deals",
        "forecast",
        _("Overdue deals"),
        _("Open deals whose expected close date is before today, whatever the period."),
        "count",
        "METRICS.md §P",
    ),
    Figure(
        "overdue_value",
        "forecast",
        _("Overdue value"),
        _("The sum of the values of the overdue deals."),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "undated_deals",
        "forecast",
        _("Undated deals"),
        _("Open deals with no expected close date, whatever the period."),
        "count",
        "METRICS.md §P",
    ),
    Figure(
        "undated_value",
        "forecast",
        _("Undated value"),
        _("The sum of the values of the undated deals."),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "historical_win_rate_pct",
        "forecast",
        _("Historical win rate"),
        _("Won deals / (won + lost) among the deals closed in the 365 days before today."),
        "pct",
        "METRICS.md §P",
    ),
    Figure(
        "value_at_historical_rate",
        "forecast",
        _("Value at the historical rate"),
        _(
            "The pipeline value × the historical win rate: what the pipeline is worth if it "
            "converts as the last year did."
        ),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "expected_buying_days",
        "forecast",
        _("Expected repeat buying days"),
        _(
            "Buying days the customer value model expects from existing customers in the part "
            "of the period after today."
        ),
        "decimal",
        "METRICS.md §P",
    ),
    Figure(
        "expected_repeat_revenue",
        "forecast",
        _("Expected repeat revenue"),
        _(
            "Those expected buying days × each customer's expected value of a buying day: "
            "revenue expected from existing customers, not from the pipeline."
        ),
        "money",
        "METRICS.md §P",
    ),
    Figure(
        "model_fitted",
        "forecast",
        _("Model fitted"),
        _(
            "Whether the customer value model could be fitted; when not, the two expected "
            "figures are empty."
        ),
        "count",
        "METRICS.md §P",
    ),
    Figure(
        "backtest",
        "forecast",
        _("Backtest"),
        _(
            "The same forecast made 90 days ago (the pipeline as its history recorded it "
            "then, the model fitted then) beside what was actually won and bought in the 90 "
            "days after."
        ),
        "list",
        "METRICS.md §P",
    ),
    # --- Customer health ----------------------------------------------------------------------
    Figure(
        "health_customers",
        "health",
        _("Customers scored"),
        _(
            "Customers with at least one won deal closed on or before the as-of date, each "
            "given a health score from 0 to 100."
        ),
        "count",
        "METRICS.md §Q",
        api_field="customers",
    ),
    Figure(
        "avg_health",
        "health",
        _("Average health"),
        _(
            "The mean health score: a weighted mean of the chance of still buying, how recently "
            "they bought, their chat ratings of the last 180 days and their latest NPS answer "
            "of the last year (the last two only where there is one)."
        ),
        "decimal",
        "METRICS.md §Q",
    ),
    Figure(
        "health_by_band",
        "health",
        _("Customers by health band"),
        _(
            "Healthy, needs attention and at risk (the score's bands, each shown with its "
            "scores): the customers of each band and their revenue so far."
        ),
        "list",
        "METRICS.md §Q",
        api_field="by_band",
    ),
    Figure(
        "health_backtest",
        "health",
        _("Does the score foretell buying?"),
        _(
            "The scores as they were 90 days before the as-of date and, per band, the share "
            "of those customers who bought again in those 90 days."
        ),
        "list",
        "METRICS.md §Q",
        api_field="backtest",
    ),
    # --- Team: sales by owner (keys "owner_<API field>": the API's names clash with K's) -------
    Figure(
        "owner_won_deals",
        "owners",
        _("Won deals"),
        _("The owner's won deals whose close date is in the period."),
        "count",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_revenue",
        "owners",
        _("Revenue"),
        _("The sum of the values of those won deals."),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_lost_deals",
        "owners",
        _("Lost deals"),
        _("The owner's lost deals whose close date is in the period."),
        "count",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_win_rate_pct",
        "owners",
        _("Win rate"),
        _("100 × won deals / (won deals + lost deals)."),
        "pct",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_avg_won_value",
        "owners",
        _("Average won value"),
        _("Revenue / won deals."),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_median_cycle_days",
        "owners",
        _("Median sales cycle (days)"),
        _(
            "The middle value (nearest rank) of close date − created date, in days, over the "
            "won deals; none: 0."
        ),
        "count",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_new_buyers",
        "owners",
        _("New buyers"),
        _("Customers whose first purchase ever falls in the period, on a won deal of this owner."),
        "count",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_open_deals",
        "owners",
        _("Open deals"),
        _("The owner's open deals whose expected close date is in the period."),
        "count",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_open_value",
        "owners",
        _("Pipeline"),
        _("The sum of the values of those open deals."),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_weighted_value",
        "owners",
        _("Weighted pipeline"),
        _(
            "The sum of value × win probability (the deal's own, else its stage's) / 100 over "
            "those open deals."
        ),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_target",
        "owners",
        _("Target"),
        _(
            "The owner's monthly targets for the months of the period, each month's counted "
            "by the share of its days in the period; empty when no month has a target."
        ),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "owner_attainment_pct",
        "owners",
        _("Attainment"),
        _("100 × revenue / target."),
        "pct",
        "METRICS.md §O",
        headline=False,
    ),
    Figure(
        "team_target",
        "owners",
        _("Team target"),
        _(
            "Per month, the team's own target, else the sum of every owner's; counted by the "
            "share of the month's days in the period."
        ),
        "money",
        "METRICS.md §O",
        headline=False,
    ),
]


def figure(key: str) -> Figure:
    """The registry entry for `key`; KeyError names an unknown key."""
    for entry in FIGURES:
        if entry.key == key:
            return entry
    raise KeyError(f"no figure {key!r} in insights.figures.FIGURES")


def figure_help(key: str) -> Promise:
    """The help text of `key` (lazy, translated when rendered): for API schema descriptions."""
    return figure(key).help


def section(key: str) -> Section:
    for entry in SECTIONS:
        if entry.key == key:
            return entry
    raise KeyError(f"no section {key!r} in insights.figures.SECTIONS")


def section_figures(section_key: str, unit: tuple[Unit, ...] | None = None) -> list[Figure]:
    """The figures of one section in registry order, optionally only of the given units."""
    return [f for f in FIGURES if f.section == section_key and (unit is None or f.unit in unit)]


def headline_figures(section_key: str) -> list[Figure]:
    """The single-number figures a section reports, in registry order (XLSX rows, API, P′):
    its own, after those of other sections it reports too (sales' total_customers)."""
    extra = [figure(key) for key in section(section_key).also_reports]
    return extra + cards(section_key)


def compared_figures(section_key: str) -> list[Figure]:
    """The headline figures compared with the previous period (none when the section does not
    compare): the `previous` and `change_pct` fields of its API answer."""
    if not section(section_key).compares:
        return []
    return [f for f in headline_figures(section_key) if f.compared]


def cards(section_key: str) -> list[Figure]:
    """The section's own single-number figures: its dashboard cards, in registry order."""
    return [f for f in FIGURES if f.section == section_key and f.is_headline]


def help_texts() -> dict[str, Promise]:
    """{key: help text} of every figure, for templates that place a help text by key."""
    return {f.key: f.help for f in FIGURES}


def section_description(section_key: str) -> str:
    """An API endpoint's description: each figure of the section with its definition."""
    return "\n".join(f"- **{f.label}**: {f.help}" for f in FIGURES if f.section == section_key)


def section_titles() -> dict[str, Promise]:
    """{section key: title}, for the dashboard's headings."""
    return {s.key: s.title for s in SECTIONS}
