"""Time the customer-value fit and scoring at N synthetic customers, numpy only (no database).

    .venv/bin/python -m bench.clv_scale --customers 1000000 [--model mbgnbd|bgnbd]

Customers are simulated from the BG/NBD story itself (rate λ ~ Gamma(r, α), drop-out after each
buying day with p ~ Beta(a, b), first buying day uniform over two years before A; day values
Gamma-Gamma), then the steps of a rebuild are timed: collapse to distinct (x, t_x, T) triples
and (x, m) pairs (SQL does this in the app), both fits, and scoring every customer (P(alive),
expected buying days over 365 days, expected value). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from insights import clv

TRUE = {"r": 0.6, "alpha": 40.0, "a": 0.8, "b": 2.5, "p": 6.0, "q": 3.8, "gamma": 15.0}


def simulate(n: int, seed: int = 7) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    lam = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], n)
    drop = rng.beta(TRUE["a"], TRUE["b"], n)
    T = rng.integers(0, 730, n).astype(float)  # days from the first buying day to A
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        # after a buying day the customer drops out with probability p
        alive[idx[rng.random(idx.size) < drop[idx]]] = False
        idx = np.flatnonzero(alive)
        now[idx] += np.ceil(rng.exponential(1.0 / lam[idx]))
        bought = idx[now[idx] <= T[idx]]
        x[bought] += 1
        t_x[bought] = now[bought]
        alive[idx[now[idx] > T[idx]]] = False
    nu = rng.gamma(TRUE["q"], 1.0 / TRUE["gamma"], n)
    # mean of x day values ~ Gamma(p·x, ν·x); whole cents like the rollups
    shape = np.maximum(TRUE["p"] * x, 1e-9)
    m = np.where(x > 0, rng.gamma(shape, 1.0 / (nu * np.maximum(x, 1))), 0)
    return x, t_x, T, np.round(m, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--model", choices=clv.MODELS, default=clv.DEFAULT_MODEL)
    args = parser.parse_args()
    x, t_x, T, m = simulate(args.customers)
    timings: dict[str, float] = {}

    began = time.perf_counter()
    triples, counts = np.unique(np.stack([x, t_x, T], axis=1), axis=0, return_counts=True)
    repeat = x > 0
    pairs, pair_counts = np.unique(
        np.stack([x[repeat], m[repeat]], axis=1), axis=0, return_counts=True
    )
    timings["distinct_s"] = time.perf_counter() - began

    began = time.perf_counter()
    bgnbd = clv.purchase_fit(
        triples[:, 0], triples[:, 1], triples[:, 2], weights=counts, model=args.model
    )
    timings["purchase_fit_s"] = time.perf_counter() - began
    began = time.perf_counter()
    gg = clv.gamma_gamma_fit(pairs[:, 0], pairs[:, 1], weights=pair_counts)
    timings["gamma_gamma_fit_s"] = time.perf_counter() - began

    began = time.perf_counter()
    alive = clv.purchase_p_alive(bgnbd, x, t_x, T)
    expected = clv.purchase_expected(bgnbd, 365.0, x, t_x, T)
    value = clv.gamma_gamma_expected_value(gg, x, m)
    predicted = expected * value
    timings["score_all_s"] = time.perf_counter() - began

    # Health's arithmetic over every customer (the rebuild adds its SQL reads to this).
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from insights import health

    began = time.perf_counter()
    components = {
        "purchase": 100.0 * alive,
        "recency": health.recency_score(T - t_x),
        "service": np.full(len(x), np.nan),
        "voice": np.full(len(x), np.nan),
    }
    weights = {"purchase": 40.0, "recency": 30.0, "service": 15.0, "voice": 15.0}
    scores = health.health_score(components, weights)
    health.bands(scores)
    timings["health_score_s"] = time.perf_counter() - began

    print(
        json.dumps(
            {
                "customers": args.customers,
                "model": args.model,
                "repeat_customers": int(repeat.sum()),
                "distinct_triples": len(triples),
                "distinct_pairs": len(pairs),
                "fit": {**bgnbd.__dict__, **gg.__dict__},
                "true": TRUE,
                "predicted_total": float(predicted.sum()),
                "p_alive_mean": float(alive.mean()),
                "seconds": {k: round(v, 3) for k, v in timings.items()},
                "total_s": round(sum(timings.values()), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
