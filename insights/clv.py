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
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    start: BgNbdFit | None = None,
) -> BgNbdFit:
    """Maximum-likelihood r, α, a, b over customers (or distinct triples with `weights`).

    `start`: a previous fit to start from (a nearby as-of date converges in fewer steps).
    """
    x, t_x, T = _arrays(x, t_x, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if float(w[x > 0].sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day")
    objective = _BgNbdObjective(x, t_x, T, w)
    first = _BGNBD_START if start is None else np.log([start.r, start.alpha, start.a, start.b])
    result = _minimize(objective, first)
    _check(result, "BG/NBD")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(result.fun) * objective.total)


class _BgNbdObjective:
    """−(mean log-likelihood) and its gradient in log-parameters, for L-BFGS-B.

    x, t_x and T take few distinct values (days), so every special function and logarithm is
    evaluated once per distinct value and gathered: a million customers' 400,000 distinct
    triples cost a few vector gathers per evaluation, not 400,000 digammas.
    """

    def __init__(self, x: Floats, t_x: Floats, T: Floats, w: Floats) -> None:
        self.total = float(w.sum())
        self.w = w / self.total
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.ut, self.it = np.unique(t_x, return_inverse=True)
        self.uT, self.iT = np.unique(T, return_inverse=True)
        self.x, self.t_x, self.T = x, t_x, T
        self.repeat = x > 0
        # per distinct x, the summed weights (the terms that depend on x alone)
        self.wx = np.bincount(self.ix, weights=self.w, minlength=self.ux.size)

    def _terms(self, log_params: Floats) -> tuple:
        r, alpha, a, b = np.exp(log_params)
        ux, x = self.ux, self.x
        ln_aT = np.log(alpha + self.uT)[self.iT]
        ln_at = np.log(alpha + self.ut)[self.it]
        ux1 = np.where(ux > 0, ux, 1.0)
        a3 = -(r + x) * ln_aT
        a4 = np.where(
            self.repeat, np.log(a) - np.log(b + ux1 - 1.0)[self.ix] - (r + x) * ln_at, -np.inf
        )
        mix = np.logaddexp(a3, a4)
        per_x = (
            special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
            + special.betaln(a, b + ux) - special.betaln(a, b)
        )  # fmt: skip
        value = float(np.dot(self.wx, per_x) + np.dot(self.w, mix))
        return r, alpha, a, b, ln_aT, ln_at, ux1, a4, mix, value

    def value(self, log_params: Floats) -> float:
        """The objective alone (Nelder-Mead needs no gradient: about half the work)."""
        value = self._terms(log_params)[-1]
        return -value if np.isfinite(value) else 1e300

    def __call__(self, log_params: Floats) -> tuple[float, Floats]:
        r, alpha, a, b, ln_aT, ln_at, ux1, a4, mix, value = self._terms(log_params)
        ux, x, w = self.ux, self.x, self.w
        w4 = np.exp(a4 - mix)  # share of the "dropped out after t_x" branch (0 when x = 0)
        w3 = 1.0 - w4
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + ux)
        d_r = np.dot(self.wx, special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
        d_r -= np.dot(w, w3 * ln_aT + w4 * ln_at)
        rx = r + x
        d_alpha = r / alpha - np.dot(w, rx * (w3 / (alpha + self.T) + w4 / (alpha + self.t_x)))
        d_a = np.dot(self.wx, psi_ab - psi_abx) + np.dot(w, w4) / a
        d_b = np.dot(self.wx, special.digamma(b + ux) - psi_abx - special.digamma(b) + psi_ab)
        d_b -= np.dot(w, w4 / (b + ux1 - 1.0)[self.ix])
        grad = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros(4)
        return -value, grad


def _minimize(objective, start: Floats) -> optimize.OptimizeResult:
    """L-BFGS-B with the analytic gradient; when its line search gives up, which happens on
    flat ridges near the optimum, Nelder-Mead from where it stopped confirms or moves the point.
    """
    bounds = [_LOG_BOUND] * len(start)
    options = {"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-9}
    result = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    if result.success or _stationary(result):
        return result
    # Bounded: every evaluation reads every distinct triple, so an unbounded simplex search on
    # a million customers ran for minutes inside the nightly rebuild.
    value_only = getattr(objective, "value", lambda params: objective(params)[0])
    return optimize.minimize(
        value_only, result.x, method="Nelder-Mead", bounds=bounds,
        options={"maxfev": NELDER_MEAD_MAX_EVALUATIONS, "xatol": 1e-7, "fatol": 1e-12},
    )  # fmt: skip


# The objective is a mean log-likelihood per customer: a gradient this small in every
# log-parameter is a stationary point, whatever L-BFGS-B's line search then reported.
STATIONARY_GRADIENT = 1e-6
# Started where L-BFGS-B stopped, a 4-parameter simplex that converges does so in a few hundred
# evaluations; on data with no dropout (the 1M benchmark) it never does, and 3,000 evaluations
# cost 17 s per as-of date inside the rebuild's cache warming.
NELDER_MEAD_MAX_EVALUATIONS = 1000


def _stationary(result: optimize.OptimizeResult) -> bool:
    jac = getattr(result, "jac", None)
    return (
        jac is not None
        and bool(np.all(np.isfinite(jac)))
        and float(np.max(np.abs(jac))) < STATIONARY_GRADIENT
    )


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
    cancels against a vanishing power; the transformed one has c−a−b = r+x+1−a > 0 for x ≥ 1.

    scipy's 2F1 still overflows when a and b are large (hundreds: a fit with almost no
    drop-out), giving inf · 0. There the same quantity is computed from its definition, the
    expectation over the drop-out probability p ~ Beta(a, b+x) of an alive customer of
    (1 − (1 + p·t/(α+T))^−(r+x)) / p (the gamma-distributed rate integrated out), by
    64-point Gauss-Jacobi quadrature; that value lies in (0, (r+x)·t/(α+T)], which also
    serves to detect a failed 2F1.
    """
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = fit.r, fit.alpha, fit.a, fit.b
    z = horizon / (alpha + T + horizon)
    log_one_minus_z = np.log(alpha + T) - np.log(alpha + T + horizon)
    with np.errstate(all="ignore"):
        term = np.exp((a - 1.0) * log_one_minus_z) * special.hyp2f1(
            a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
        )
        if_alive = (a + b + x - 1.0) / (a - 1.0) * (1.0 - term)
    ceiling = (r + x) * horizon / (alpha + T)
    bad = ~np.isfinite(if_alive) | (if_alive < 0.0) | (if_alive > ceiling * (1.0 + 1e-9))
    if np.any(bad):
        if_alive = np.where(bad, 0.0, if_alive)
        if_alive[bad] = _expected_if_alive_by_quadrature(fit, horizon, x[bad], T[bad])
    return if_alive * bgnbd_p_alive(fit, x, t_x, T)


# Rows per block of the quadrature: a block's matrix is rows × nodes (up to 400) floats, and
# a whole group at once (hundreds of thousands of customers with the same x) took 2 GB.
QUADRATURE_BLOCK_ROWS = 8192


def _expected_if_alive_by_quadrature(fit: BgNbdFit, horizon: float, x: Floats, T: Floats) -> Floats:
    result = np.empty_like(x)
    for value in np.unique(x):
        (rows,) = np.nonzero(x == value)
        p, weights = _beta_nodes(fit.a, fit.b + value)
        for begin in range(0, len(rows), QUADRATURE_BLOCK_ROWS):
            block = rows[begin : begin + QUADRATURE_BLOCK_ROWS]
            kappa = horizon / (fit.alpha + T[block])
            g = -np.expm1(-(fit.r + value) * np.log1p(np.outer(kappa, p))) / p
            result[block] = g @ weights
    return result


def _beta_nodes(a: float, c: float) -> tuple[Floats, Floats]:
    """Nodes and weights (summing to 1) for expectations over p ~ Beta(a, c)."""
    # Gauss-Jacobi: weight (1−y)^(c−1) (1+y)^(a−1) on [−1, 1] is Beta(a, c) in p = (1+y)/2.
    with np.errstate(all="ignore"):
        nodes, weights = special.roots_jacobi(64, c - 1.0, a - 1.0)
        weights = weights / weights.sum()
    if np.all(np.isfinite(nodes)) and np.all(np.isfinite(weights)):
        return (1.0 + nodes) / 2.0, weights
    # a + c beyond ~1000 overflows scipy's normalising constant 2^(a+c−1). Then integrate in
    # v = ln p, where the density ∝ exp(a·v + (c−1)·ln(1 − e^v)) is smooth, with 400-point
    # Gauss-Legendre over ±20 standard deviations of ln p (digamma/trigamma moments).
    mean = special.digamma(a) - special.digamma(a + c)
    sd = np.sqrt(special.polygamma(1, a) - special.polygamma(1, a + c))
    low, high = mean - 20.0 * sd, min(mean + 20.0 * sd, -1e-300)
    y, w = np.polynomial.legendre.leggauss(400)
    v = (high - low) / 2.0 * y + (high + low) / 2.0
    log_density = a * v + (c - 1.0) * np.log(-np.expm1(v)) + np.log(w)
    weights = np.exp(log_density - special.logsumexp(log_density))
    if not (np.all(np.isfinite(v)) and np.all(np.isfinite(weights))):
        raise ModelError(f"expected purchases cannot be computed for Beta({a:.3g}, {c:.3g})")
    return np.exp(v), weights


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


def gamma_gamma_fit(
    x: ArrayLike,
    m: ArrayLike,
    weights: ArrayLike | None = None,
    start: GammaGammaFit | None = None,
) -> GammaGammaFit:
    """Maximum-likelihood p, q, γ over customers with x ≥ 1 and m > 0 (`start` as above)."""
    x, m = _arrays(x, m)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    usable = (x > 0) & (m > 0)
    x, m, w = x[usable], m[usable], w[usable]
    if float(w.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day")
    total = float(w.sum())
    w = w / total
    ln_m, ln_x = np.log(m), np.log(x)

    def objective(log_params: Floats) -> tuple[float, Floats]:
        p, q, gamma = np.exp(log_params)
        px = p * x
        ln_gmx = np.log(gamma + m * x)
        value = float(np.dot(w, gamma_gamma_log_likelihood(p, q, gamma, x, m)))
        psi_pxq = special.digamma(px + q)
        d_p = np.dot(w, x * (psi_pxq - special.digamma(px) + ln_m + ln_x - ln_gmx))
        d_q = np.dot(w, psi_pxq - special.digamma(q) + np.log(gamma) - ln_gmx)
        d_gamma = np.dot(w, q / gamma - (px + q) / (gamma + m * x))
        grad = -np.array([d_p * p, d_q * q, d_gamma * gamma])
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros(3)
        return -value, grad

    first = _GG_START if start is None else np.log([start.p, start.q, start.gamma])
    result = _minimize(objective, first)
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
