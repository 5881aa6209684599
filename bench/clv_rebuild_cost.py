"""The customer value family and health inside a full rebuild, with the model fitted or not.

The generated data sets have no drop-out, so on them the purchase model's fit ends at a
parameter limit and the rebuild scores nobody (METRICS.md V: "not fitted"). This bench runs the
two families as the rebuild runs them, in one transaction that is rolled back, twice:

* `as is`: the fit as it comes out on these data (at the limit: nothing scored);
* `scored`: the same fit run to its end (its time counted), then the published MBG/NBD CDNOW
  parameters (r 0.525, α 6.183 per week, a 0.891, b 1.614; Gamma-Gamma p 6.25, q 3.74,
  γ 15.44) used in its place, so every customer is scored and written, and health reads the
  stored fit: what a fitted data set of this size costs (issue 31's "fit and scoring ≤ 30 s").

    DEBUG=True DATABASE_URL=postgres://... .venv/bin/python -m bench.clv_rebuild_cost
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import contextmanager, nullcontext
from typing import Any

import django

MBG_CDNOW_DAYS = {"r": 0.525, "alpha": 6.183 * 7, "a": 0.891, "b": 1.614}
GAMMA_GAMMA_CDNOW = {"p": 6.25, "q": 3.74, "gamma": 15.44}


class _RolledBack(Exception):
    pass


@contextmanager
def _fit_then_published(timings: dict[str, float]):
    """Run the real fits (timed), then hand the published parameters to the family."""
    from insights import clv

    real_purchase_fit, real_gamma_gamma_fit = clv.purchase_fit, clv.gamma_gamma_fit

    def purchase_fit(*args: Any, **kwargs: Any) -> clv.BgNbdFit:
        began = time.monotonic()
        try:
            real_purchase_fit(*args, **kwargs)
            timings["real_fit_outcome"] = "fitted"
        except clv.ModelError as error:
            timings["real_fit_outcome"] = f"not fitted: {error.reason}"
        timings["real_fit_s"] = round(time.monotonic() - began, 3)
        return clv.BgNbdFit(**MBG_CDNOW_DAYS, log_likelihood=0.0, model="mbgnbd")

    def gamma_gamma_fit(*args: Any, **kwargs: Any) -> clv.GammaGammaFit:
        began = time.monotonic()
        try:
            real_gamma_gamma_fit(*args, **kwargs)
        except clv.ModelError:
            pass
        timings["real_fit_s"] += round(time.monotonic() - began, 3)
        return clv.GammaGammaFit(**GAMMA_GAMMA_CDNOW, log_likelihood=0.0)

    clv.purchase_fit, clv.gamma_gamma_fit = purchase_fit, gamma_gamma_fit
    try:
        yield
    finally:
        clv.purchase_fit, clv.gamma_gamma_fit = real_purchase_fit, real_gamma_gamma_fit


def families_run(*, scored: bool) -> dict[str, Any]:
    """Seconds of the customer value family's phases and of health's two steps."""
    from django.db import transaction

    from insights import customer_value, health

    timings: dict[str, Any] = {}
    try:
        with transaction.atomic():
            began = time.monotonic()
            with _fit_then_published(timings) if scored else nullcontext():
                timings["customers_scored"] = customer_value.customer_value_rebuild(timings=timings)
            timings["customer_value_s"] = round(time.monotonic() - began, 3)
            began = time.monotonic()
            timings["nps_days"] = health.nps_days_rebuild()
            timings["customers_with_health"] = health.customer_health_rebuild()
            timings["health_s"] = round(time.monotonic() - began, 3)
            raise _RolledBack
    except _RolledBack:
        pass
    timings["load_after"] = os.getloadavg()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=1)
    parser.add_argument("--json", dest="json_path")
    arguments = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.measure import machine

    runs = []
    for _ in range(arguments.tries):
        for scored in (False, True):
            load_before = os.getloadavg()
            result = {"arm": "scored" if scored else "as is", "load_before": load_before}
            result.update(families_run(scored=scored))
            print(json.dumps(result, default=str), flush=True)
            runs.append(result)
    if arguments.json_path:
        with open(arguments.json_path, "w") as handle:
            json.dump({"machine": machine(), "runs": runs}, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
