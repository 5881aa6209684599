"""The dashboard's "Customer value (predicted)" section (METRICS.md V): context for its partial.

Reads insights.customer_value only (the cached fit for the period's as-of date, horizon 365);
the partial templates/admin/insights/_value.html draws it and static/insights/value.js its two
charts from a json_script of their own.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import customer_value
from .figures import figure
from .periods import Period

# The figures' one-sentence explanations come from the registry; the rest are this section's.
VALUE_HELP = {
    **{
        key: figure(key).help
        for key in ("predicted_revenue", "customers", "customers_at_risk", "revenue_at_risk")
    },
    "p_alive": figure("p_alive").help,
    "histogram": gettext_lazy(
        "How many customers have each probability of still buying from you, in steps of 10%. "
        "Customers who bought once count as still buying (the model's rule)."
    ),
    "holdout": gettext_lazy(
        "Model check: for the days after the as-of date that have already passed, the buying "
        "days customers actually had beside what the model expected, by how many times they "
        "had bought again before."
    ),
    "parameters": gettext_lazy(
        "BG/NBD (r, alpha in days, a, b) predicts how many more days a customer buys and "
        "whether they have stopped; Gamma-Gamma (p, q, gamma) how much a buying day is worth."
    ),
    "not_fitted": gettext_lazy(
        "The model could not be fitted: it needs at least 10 customers who bought on more "
        "than one day, and a fit that converges. No prediction is shown rather than a guess."
    ),
}


def _at_risk_url() -> str:
    try:
        base = reverse("admin:customers_customer_changelist")
    except NoReverseMatch:
        base = "/admin/customers/customer/"
    return f"{base}?{urlencode({'value': 'at_risk'})}"


def value_section(*, period: Period) -> dict[str, Any]:
    """Context of the partial: figures, chart data, parameters and the at-risk drill-down."""
    data = customer_value.customer_value(period=period)
    holdout = data["holdout"]
    charts = {
        "histogram": {
            "labels": [f"{n / 10:.1f}–{(n + 1) / 10:.1f}" for n in range(10)],
            "series": {"customers": data["p_alive_histogram"] or [0] * 10},
        },
        "holdout": {
            "labels": [row["x"] for row in holdout["by_x"]] if holdout else [],
            "series": {
                "actual": [row["actual"] for row in holdout["by_x"]] if holdout else [],
                "expected": [row["expected"] for row in holdout["by_x"]] if holdout else [],
            },
        },
        "labels": {
            "customers": _("Customers"),
            "actual": _("Actual buying days per customer"),
            "expected": _("Expected buying days per customer"),
        },
    }
    return {
        "fitted": data["fitted"],
        "as_of": data["as_of"],
        "horizon": data["horizon"],
        "customers": data["customers"],
        "predicted_revenue": customer_value.money(data["predicted_revenue_cents"]),
        "customers_at_risk": data["customers_at_risk"],
        "revenue_at_risk": customer_value.money(data["revenue_at_risk_cents"]),
        "parameters": data["parameters"],
        "log_likelihood": data["log_likelihood"],
        "holdout": holdout,
        "charts": charts,
        "help": VALUE_HELP,
        "at_risk_url": _at_risk_url(),
    }


def stored_customer_value(customer: Any) -> Any | None:
    """The customer's stored prediction (insights.CustomerValue), or None when it has none.

    Read through `select_related("value")`, so no query here.
    """
    try:
        return customer.value
    except customer_value.CustomerValue.DoesNotExist:  # no buying day, or no fit yet
        return None
