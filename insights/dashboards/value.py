"""The dashboard's "Customer value (predicted)" section (METRICS.md V): context for its partial.

Reads insights.customer_value only (the cached fit for the period's as-of date, horizon 365);
the partial templates/admin/insights/_value.html draws it and static/insights/value.js its two
charts from a json_script of their own.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import customer_value
from ..figures import figure
from ..periods import Period, local_today

# The figures' one-sentence explanations come from the registry; the rest are this section's.
VALUE_HELP = {
    **{
        key: figure(key).help
        for key in ("predicted_revenue", "customers", "customers_at_risk", "revenue_at_risk")
    },
    "p_alive": figure("p_alive").help,
    "histogram": gettext_lazy(
        "How many customers have each probability of still buying from you, in steps of 10%, "
        "customers who bought on one day only apart from those who came back. Someone who "
        "bought once long ago is likely to have stopped."
    ),
    "holdout": gettext_lazy(
        "Model check: for the days after the as-of date that have already passed, the buying "
        "days customers actually had beside what the model expected, by how many times they "
        "had bought again before."
    ),
    "parameters": gettext_lazy(
        "MBG/NBD (r, alpha in days, a, b) predicts how many more days a customer buys and "
        "whether they have stopped, a one-time buyer included; Gamma-Gamma (p, q, gamma) how "
        "much a buying day is worth."
    ),
    "not_fitted": gettext_lazy(
        "The model could not be fitted. No prediction is shown rather than a guess."
    ),
}

# Why a fit failed (insights.clv.ModelError.reason), and what to do, in a manager's words.
NOT_FITTED_WHY = {
    "few_repeat": gettext_lazy(
        "Fewer than 10 customers bought on more than one day up to the as-of date, too few to "
        "learn how often customers come back. What to do: choose a longer or later period, or "
        "wait until more customers have bought again."
    ),
    "boundary": gettext_lazy(
        "Your customers' buying up to the as-of date is at an extreme the model cannot "
        "describe: they all buy at nearly the same pace, or hardly anyone stops buying. What "
        "to do: choose a longer period; if it stays so, rely on the buyer lifecycle and the "
        "customer health figures instead of these predictions."
    ),
    "infinite_mean": gettext_lazy(
        "The value of a buying day varies too widely for an average to be estimated. What to "
        "do: check won deals for amounts entered wrongly (an extra zero), or choose a longer "
        "period."
    ),
    "no_convergence": gettext_lazy(
        "The calculation did not settle on an answer for these buying days. What to do: "
        "choose another period; if it keeps happening, tell your administrator."
    ),
}
NOT_FITTED_WHY["not_finite"] = NOT_FITTED_WHY["no_convergence"]


def _at_risk_url(as_of: str) -> str:
    """The customer list of the card's at-risk customers: as of the card's date A, not the
    last rebuild's, so a past period's list counts what its card says."""
    try:
        base = reverse("admin:customers_customer_changelist")
    except NoReverseMatch:
        base = "/admin/customers/customer/"
    return f"{base}?{urlencode({'value': 'at_risk', 'value_as_of': as_of})}"


def value_section(*, period: Period) -> dict[str, Any]:
    """Context of the partial: figures, chart data, parameters and the at-risk drill-down."""
    data = customer_value.customer_value(period=period)
    holdout, check_days = data["holdout"], data["horizon"]
    if holdout is None and data["fitted"]:
        holdout, check_days = _passed_holdout(period, date.fromisoformat(data["as_of"]))
    histogram = data["p_alive_histogram"] or [0] * 10
    repeat = data.get("p_alive_histogram_repeat") or [0] * 10
    charts = {
        "histogram": {
            "labels": [f"{n / 10:.1f}–{(n + 1) / 10:.1f}" for n in range(10)],
            "series": {
                "one_time": [total - back for total, back in zip(histogram, repeat, strict=True)],
                "repeat": repeat,
            },
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
            "one_time": _("Bought on one day"),
            "repeat": _("Bought again"),
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
        "check_days": check_days,
        "charts": charts,
        "help": VALUE_HELP,
        "why_not_fitted": NOT_FITTED_WHY.get(data.get("reason") or "no_convergence"),
        "at_risk_url": _at_risk_url(data["as_of"]),
    }


def _passed_holdout(period: Period, as_of: date) -> tuple[dict | None, int]:
    """The model check over the days after A that have passed, when A + H has not: the fit
    of A with the horizon cut to today (at most MAX_HORIZON days); None when none has passed."""
    passed = (local_today() - as_of).days
    if passed < customer_value.MIN_HORIZON:
        return None, 0
    horizon = min(passed, customer_value.MAX_HORIZON)
    data = customer_value.customer_value(period=period, horizon=horizon)
    return data["holdout"], horizon


def stored_customer_value(customer: Any) -> Any | None:
    """The customer's stored prediction (insights.CustomerValue), or None when it has none.

    Read through `select_related("value")`, so no query here.
    """
    try:
        return customer.value
    except customer_value.CustomerValue.DoesNotExist:  # no buying day, or no fit yet
        return None
