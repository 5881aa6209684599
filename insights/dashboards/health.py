"""The dashboard's "Customer health" section (METRICS.md Q): context for its partial.

Reads insights.health only (the cached figures for the period's as-of date); each band links
to the admin customer list filtered by that band, which counts the same customers when the
as-of date is today (the list filters on the scores the last rebuild stored).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from .. import health
from ..periods import Period, local_today
from ..section_params import health_band_labels


def _list_url(band: str) -> str:
    try:
        base = reverse("admin:customers_customer_changelist")
    except NoReverseMatch:
        base = "/admin/customers/customer/"
    return f"{base}?{urlencode({'health': band})}"


def _reading(backtest: dict[str, Any] | None) -> str:
    """One sentence that reads the backtest for a manager."""
    if backtest is None:
        return _("No customer had bought 90 days before the as-of date: nothing to check yet.")
    rows = {row["band"]: row for row in backtest["by_band"]}
    healthy, at_risk = rows["healthy"], rows["at_risk"]
    if not healthy["customers"] or not at_risk["customers"]:
        return _(
            "Of the customers scored 90 days earlier, one band was empty: the check needs "
            "customers both healthy and at risk."
        )
    better = float(healthy["bought_pct"]) > float(at_risk["bought_pct"])
    values = {"healthy": healthy["bought_pct"], "at_risk": at_risk["bought_pct"]}
    if better:
        return (
            _(
                "The score works on your data: %(healthy)s%% of the customers it called healthy "
                "90 days earlier bought again since, against %(at_risk)s%% of those at risk."
            )
            % values
        )
    return (
        _(
            "Careful: %(healthy)s%% of the customers called healthy 90 days earlier bought "
            "again, not more than the %(at_risk)s%% of those at risk; the score does not "
            "foretell buying on your data yet (check the weights)."
        )
        % values
    )


def health_section(*, period: Period) -> dict[str, Any]:
    data = health.customer_health(period=period)
    labels = health_band_labels()
    today_scores = date.fromisoformat(data["as_of"]) == local_today()
    bands = [
        {
            **row,
            "label": labels[row["band"]],
            "url": _list_url(row["band"]) if today_scores else "",
        }
        for row in data["by_band"]
    ]
    backtest = data["backtest"]
    return {
        "as_of": data["as_of"],
        "customers": data["customers"],
        "avg_health": data["avg_health"],
        "bands": bands,
        "model_fitted": data.get("model_fitted", True),
        "backtest": (
            {
                "as_of": backtest["as_of"],
                "rows": [{**row, "label": labels[row["band"]]} for row in backtest["by_band"]],
            }
            if backtest
            else None
        ),
        "reading": _reading(backtest),
    }


def stored_customer_health(customer: Any) -> Any | None:
    """The customer's stored health (insights.CustomerHealth), or None when it has none.

    Read through `select_related("health")`, so no query here.
    """
    try:
        return customer.health
    except health.CustomerHealth.DoesNotExist:  # no buying day, or no rebuild yet
        return None
