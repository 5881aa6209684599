"""BG/NBD and Gamma-Gamma customer-value models (METRICS.md V): pure numpy/scipy, no Django.

* BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2). Log-likelihood eq. 6, P(alive) eq. 8,
  conditional expectation eq. 10.
* Gamma-Gamma: Fader, Hardie and Lee (2005), "RFM and CLV: using iso-value curves for customer
  base analysis", JMR 42(4), and Fader and Hardie's note "The Gamma-Gamma model of monetary
  value" (2013).

Fits maximise the log-likelihood over log-parameters (so every parameter stays positive) with
L-BFGS-B, summing over the DISTINCT inputs with their counts as weights: a million customers
collapse to tens of thousands of (x, t_x, T) triples. Everything is computed in logs
(gammaln, betaln, logaddexp), so a customer with thousands of repeat days cannot overflow.
A fit that does not converge, or lands on non-finite values, is reported as not fitted: the
caller then says so instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

MIN_REPEAT_CUSTOMERS = 10  # METRICS.md V: fewer customers with x > 0 cannot be fitted
# Starting point on the log scale; the likelihood surface is smooth, one start suffices.
_BGNBD_START = np.log([0.5, 10.0, 1.0, 1.0])
_GG_START = np.log([1.0, 2.0, 10.0])
# Bounds on log-parameters (e^-20 .. e^20): they keep the optimiser away from overflow only.
_LOG_BOUND = (-20.0, 20.0)

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float  # at the optimum, summed over customers


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float


class ModelError(ValueError):
    """The inputs cannot be fitted (too few repeat customers, or no convergence)."""


def _arrays(*values: ArrayLike) -> list[Floats]:
    return [np.asarray(value, dtype=np.float64) for value in values]


# --- BG/NBD -----------------------------------------------------------------------------------


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """Per-customer log-likelihood, FHL 2005 eq. 6, in logs for large x."""
    x, t_x, T = _arrays(x, t_x, T)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    # The second term exists only when x > 0 (it is the "dropped out after t_x" branch).
    repeat = x > 0
    x_safe = np.where(repeat, x, 1.0)
    a4 = np.where(
        repeat,
        np.log(a) - np.log(b + x_safe - 1.0) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_fit(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
) -> BgNbdFit:
    """Maximum-likelihood r, α, a, b over customers (or distinct triples with `weights`)."""
    x, t_x, T = _arrays(x, t_x, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if float(w[x > 0].sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day")
    total = float(w.sum())

    def objective(log_params: Floats) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = -float(np.dot(w, bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T))) / total
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(
        objective, _BGNBD_START, method="L-BFGS-B", bounds=[_LOG_BOUND] * 4,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )  # fmt: skip
    _check(result, "BG/NBD")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(result.fun) * total)


def _check(result: optimize.OptimizeResult, model: str) -> None:
    at_bound = np.any(np.abs(result.x) >= _LOG_BOUND[1] - 1e-6)
    if not result.success or not np.all(np.isfinite(result.x)) or at_bound:
        raise ModelError(f"{model} fit did not converge: {result.message}")


def bgnbd_p_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(alive at T | x, t_x, T), FHL 2005 eq. 8 (Hardie's note "Computing P(alive)").

    1 for x = 0: the model's dropout happens only right after a purchase.
    """
    x, t_x, T = _arrays(x, t_x, T)
    x_safe = np.where(x > 0, x, 1.0)
    log_odds = (
        np.log(fit.a)
        - np.log(fit.b + x_safe - 1.0)
        + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x))
    )
    return np.where(x > 0, special.expit(-log_odds), 1.0)


def bgnbd_expected_purchases(
    fit: BgNbdFit, horizon: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """E[Y(horizon) | x, t_x, T], FHL 2005 eq. 10.

    The factor ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z), z = t/(α+T+t), is evaluated
    after Euler's transformation 2F1(a,b;c;z) = (1−z)^(c−a−b) 2F1(c−a, c−b; c; z) with
    1−z = (α+T)/(α+T+t): it equals (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z). The original
    series diverges like (1−z)^(c−a−b) as z → 1 when x is large (c−a−b = a−1−r−x < 0) and
    cancels against a vanishing power; the transformed one has c−a−b = r+x+1−a > 0 for x ≥ 1
    (and typical r, a when x = 0), converges at z = 1 and needs no cancellation.
    """
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = horizon / (alpha + T + horizon)
    log_one_minus_z = np.log(alpha + T) - np.log(alpha + T + horizon)
    term = np.exp((a - 1.0) * log_one_minus_z) * special.hyp2f1(
        a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
    )
    numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - term)
    return numerator * bgnbd_p_alive(fit, x, t_x, T)


# --- Gamma-Gamma ------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(
    p: float, q: float, gamma: float, x: ArrayLike, m: ArrayLike
) -> Floats:
    """Per-customer log-likelihood of the mean m of x transaction values (x ≥ 1, m > 0)."""
    x, m = _arrays(x, m)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def gamma_gamma_fit(x: ArrayLike, m: ArrayLike, weights: ArrayLike | None = None) -> GammaGammaFit:
    """Maximum-likelihood p, q, γ over customers with x ≥ 1 and m > 0."""
    x, m = _arrays(x, m)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    usable = (x > 0) & (m > 0)
    x, m, w = x[usable], m[usable], w[usable]
    if float(w.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day")
    total = float(w.sum())

    def objective(log_params: Floats) -> float:
        p, q, gamma = np.exp(log_params)
        value = -float(np.dot(w, gamma_gamma_log_likelihood(p, q, gamma, x, m))) / total
        return value if np.isfinite(value) else 1e300

    result = optimize.minimize(
        objective, _GG_START, method="L-BFGS-B", bounds=[_LOG_BOUND] * 3,
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9},
    )  # fmt: skip
    _check(result, "Gamma-Gamma")
    p, q, gamma = (float(v) for v in np.exp(result.x))
    if q <= 1.0:
        # The population mean pγ/(q−1) does not exist: no value can be predicted.
        raise ModelError(f"Gamma-Gamma fit has q = {q:.3f} <= 1: the mean value is infinite")
    return GammaGammaFit(p=p, q=q, gamma=gamma, log_likelihood=-float(result.fun) * total)


def gamma_gamma_expected_value(fit: GammaGammaFit, x: ArrayLike, m: ArrayLike) -> Floats:
    """E[value of a buying day | x, m] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m.

    For x = 0 this is the population mean pγ/(q−1) (m is then ignored).
    """
    x, m = _arrays(x, m)
    p, q, gamma = fit.p, fit.q, fit.gamma
    population = p * gamma / (q - 1.0)
    weight = p * x / (p * x + q - 1.0)
    return (1.0 - weight) * population + weight * np.where(x > 0, m, 0.0)
