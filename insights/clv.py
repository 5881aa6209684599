"""MBG/NBD, BG/NBD and Gamma-Gamma customer-value models (METRICS.md V): numpy/scipy, no Django.

* BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative
  to the Pareto/NBD model", Marketing Science 24(2). Log-likelihood eq. 6, P(alive) eq. 8,
  conditional expectation eq. 10. A customer drops out only after a repeat purchase, so every
  one-time buyer has P(alive) 1.
* MBG/NBD (the default): Batislam, Denizel and Filiztekin (2007), "Empirical validation and
  comparison of models for customer base analysis", IJRM 24(3), with the erratum of Wagner and
  Hoppe (2008): a customer may also drop out at its first purchase. Its likelihood, P(alive)
  and expectation are BG/NBD's with the drop-out coin tossed once more: the Beta(a, b + x)
  posterior of an alive customer becomes Beta(a, b + x + 1), and the "dropped out after t_x"
  branch exists for x = 0 too.
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
MBGNBD, BGNBD = "mbgnbd", "bgnbd"
MODELS = (MBGNBD, BGNBD)
DEFAULT_MODEL = MBGNBD
# METRICS.md V: the likelihood is maximised within r, a, b, p, q in [1e-4, 1e4] and α in
# [1e-4, 1e6]; a maximum within 1% of a limit is at the boundary: not fitted. γ (money) has no
# limit: the Gamma-Gamma fit runs on values divided by their mean, so its γ is of order one.
PARAMETER_LIMITS = (1e-4, 1e4)
ALPHA_LIMITS = (1e-4, 1e6)
BOUNDARY_MARGIN = 0.01
_GG_START = np.log([1.0, 2.0, 1.0])
_UNBOUNDED = (-50.0, 50.0)  # γ on the scaled values: far beyond any fit, away from overflow

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbdFit:
    """A fit of the purchase model `model` (MBGNBD or BGNBD): both have r, α, a, b."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float  # at the optimum, summed over customers
    model: str = BGNBD


PurchaseFit = BgNbdFit


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    gamma: float
    log_likelihood: float


class ModelError(ValueError):
    """The inputs cannot be fitted (too few repeat customers, or no convergence).

    `reason` names the case for the people reading the figures: "few_repeat", "boundary",
    "no_convergence", "not_finite" or "infinite_mean".
    """

    def __init__(self, message: str, *, reason: str = "no_convergence") -> None:
        super().__init__(message)
        self.reason = reason


def _dot(left: np.ndarray, right: np.ndarray) -> float:
    """Σ left · right in one thread. np.dot hands vectors over 10,000 long to OpenBLAS's
    threads: inside an objective evaluated hundreds of times between other numpy work, waking
    them made an evaluation 4-8 times slower on two shared cores (5.5-7.5 ms instead of 0.9-1.5
    at 1M customers, load 2, docs/BENCHMARKS.md round nine; worse the busier the cores), and
    the sum's rounding depended on the machine's core count. einsum's own loop sums in one
    thread, in a fixed order whatever the machine."""
    return float(np.einsum("i,i->", left, right))


def _softplus(values: Floats) -> Floats:
    """ln(1 + e^v) = max(v, 0) + ln(1 + e^−|v|), which cannot overflow. np.logaddexp(0, v)
    computes the same through a scalar loop: three times as long, and most of an objective
    evaluation at 1M customers (docs/BENCHMARKS.md round nine)."""
    return np.maximum(values, 0.0) + np.log1p(np.exp(-np.abs(values)))


def _arrays(*values: ArrayLike) -> list[Floats]:
    return [np.asarray(value, dtype=np.float64) for value in values]


# --- BG/NBD and MBG/NBD ------------------------------------------------------------------------


def _shift(model: str) -> float:
    """1 for MBG/NBD (the drop-out coin is also tossed at the first purchase), 0 for BG/NBD."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    return 1.0 if model == MBGNBD else 0.0


def purchase_log_likelihood(
    model: str,
    r: float,
    alpha: float,
    a: float,
    b: float,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> Floats:
    """Per-customer log-likelihood in logs (large x cannot overflow).

    BG/NBD: FHL 2005 eq. 6. MBG/NBD (METRICS.md V):
    L = B(a, b+x+1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
      + B(a+1, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)),
    and B(a+1, b+x) = B(a, b+x+1) · a/(b+x), so the second term is the first's factor times
    a/(b+x) · ((α+T)/(α+t_x))^(r+x).
    """
    s = _shift(model)
    x, t_x, T = _arrays(x, t_x, T)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.betaln(a, b + x + s) - special.betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    # BG/NBD: the second term exists only when x > 0 (it is the "dropped out after t_x" branch).
    branch = (x > 0) | (s > 0)
    x_safe = np.where(branch, x, 1.0)
    a4 = np.where(
        branch,
        np.log(a) - np.log(b + x_safe + s - 1.0) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_log_likelihood(
    r: float, alpha: float, a: float, b: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """Per-customer BG/NBD log-likelihood, FHL 2005 eq. 6."""
    return purchase_log_likelihood(BGNBD, r, alpha, a, b, x, t_x, T)


def purchase_fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    start: BgNbdFit | None = None,
    *,
    model: str = DEFAULT_MODEL,
) -> BgNbdFit:
    """Maximum-likelihood r, α, a, b of `model` over customers (or distinct triples with
    `weights`), within METRICS.md V's limits.

    `start`: a previous fit to start from (a nearby as-of date converges in fewer steps).
    Raises ModelError (with its `reason`) when the data cannot be fitted.
    """
    _shift(model)
    x, t_x, T = _arrays(x, t_x, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if float(w[x > 0].sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(
            f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day",
            reason="few_repeat",
        )
    objective = _BgNbdObjective(x, t_x, T, w, model=model)
    bounds = _purchase_bounds()
    starts = [_purchase_start(x, t_x, T, w)]
    if start is not None and start.model == model:
        starts.insert(0, np.log([start.r, start.alpha, start.a, start.b]))
    result = _best(objective, starts, bounds)
    _check(result, "MBG/NBD" if model == MBGNBD else "BG/NBD", bounds)
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdFit(
        r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(result.fun) * objective.total,
        model=model,
    )  # fmt: skip


def bgnbd_fit(
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    weights: ArrayLike | None = None,
    start: BgNbdFit | None = None,
) -> BgNbdFit:
    """The BG/NBD fit (FHL 2005): purchase_fit with model BGNBD."""
    return purchase_fit(x, t_x, T, weights, start, model=BGNBD)


def _purchase_bounds() -> list[tuple[float, float]]:
    low, high = np.log(PARAMETER_LIMITS)
    alpha_low, alpha_high = np.log(ALPHA_LIMITS)
    return [(low, high), (alpha_low, alpha_high), (low, high), (low, high)]


def _purchase_start(x: Floats, t_x: Floats, T: Floats, w: Floats) -> Floats:
    """A start in the data's own time unit: with r = 1, α = 1 / (mean purchase rate).

    A fixed α (10) is 10 days or 10 weeks depending on the unit; started from a rate of the
    right order, the optimiser does not first have to crawl along α over several decades.
    """
    rate = _dot(w, x) / max(_dot(w, T), 1e-9)
    alpha = float(np.clip(1.0 / max(rate, 1e-9), 1e-3, 1e5))
    return np.log([1.0, alpha, 1.0, 1.0])


class _BgNbdObjective:
    """−(mean log-likelihood) and its gradient in log-parameters, for L-BFGS-B.

    x, t_x and T take few distinct values (days). Per customer the likelihood is a mix of
    a3 = −(r+x) ln(α+T), a term of (x, T) alone, and a4 = ln a − ln(b+x+s−1) − (r+x) ln(α+t_x),
    a term of (x, t_x) alone; so both are computed once per distinct (x, T) and (x, t_x)
    pair (a few thousand) and gathered, and the gradient's sums over customers are sums over
    those pairs of the weights each branch carries (two bincounts). Per distinct triple an
    evaluation costs two gathers, a softplus and a logistic: at 1M customers' 86,000 triples
    about a third of gathering every term. `model` MBGNBD shifts b + x to b + x + 1 and keeps
    the drop-out branch for x = 0.
    """

    def __init__(self, x: Floats, t_x: Floats, T: Floats, w: Floats, model: str = BGNBD) -> None:
        self.s = _shift(model)
        self.total = float(w.sum())
        self.w = w / self.total
        self.ux, ix = np.unique(x, return_inverse=True)
        ut, it = np.unique(t_x, return_inverse=True)
        uT, iT = np.unique(T, return_inverse=True)
        ix, it, iT = ix.reshape(-1), it.reshape(-1), iT.reshape(-1)
        # per distinct x, the summed weights (the terms that depend on x alone)
        self.wx = np.bincount(ix, weights=self.w, minlength=self.ux.size)
        # the distinct (x, T) pairs (k) and (x, t_x) pairs (j), and each triple's
        keys_T, self.k = np.unique(ix * uT.size + iT, return_inverse=True)
        keys_t, self.j = np.unique(ix * ut.size + it, return_inverse=True)
        self.k, self.j = self.k.reshape(-1), self.j.reshape(-1)
        self.x_k, self.T_k = self.ux[keys_T // uT.size], uT[keys_T % uT.size]
        self.x_j, self.t_j = self.ux[keys_t // ut.size], ut[keys_t % ut.size]
        self.w_k = np.bincount(self.k, weights=self.w, minlength=keys_T.size)
        # the "dropped out after t_x" branch: every (x, t_x) under MBG/NBD, x > 0 under BG/NBD
        self.repeat_j = (self.x_j > 0) | (self.s > 0)
        self.x1_j = np.where(self.repeat_j, self.x_j, 1.0) + self.s  # b + x1 − 1 = b + x + s − 1

    def _terms(self, log_params: Floats) -> tuple:
        r, alpha, a, b = np.exp(log_params)
        ux, s = self.ux, self.s
        ln_aT = np.log(alpha + self.T_k)
        ln_at = np.log(alpha + self.t_j)
        a3 = -(r + self.x_k) * ln_aT
        with np.errstate(divide="ignore"):
            a4 = np.where(
                self.repeat_j,
                np.log(a) - np.log(b + self.x1_j - 1.0) - (r + self.x_j) * ln_at,
                -np.inf,
            )
        # logaddexp(a3, a4) = a3 + softplus(a4 − a3), per triple
        delta = a4[self.j] - a3[self.k]
        per_x = (
            special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
            + special.betaln(a, b + ux + s) - special.betaln(a, b)
        )  # fmt: skip
        value = _dot(self.wx, per_x) + _dot(self.w_k, a3) + _dot(self.w, _softplus(delta))
        return r, alpha, a, b, ln_aT, ln_at, delta, value

    def value(self, log_params: Floats) -> float:
        """The objective alone (Nelder-Mead needs no gradient: about half the work)."""
        value = self._terms(log_params)[-1]
        return -value if np.isfinite(value) else 1e300

    def __call__(self, log_params: Floats) -> tuple[float, Floats]:
        r, alpha, a, b, ln_aT, ln_at, delta, value = self._terms(log_params)
        ux, s = self.ux, self.s
        # each triple's weight on the "dropped out after t_x" branch (0 when absent), summed
        # per (x, t_x) pair; the rest of its weight lies on the alive branch, per (x, T) pair
        ww4 = self.w * special.expit(delta)
        w4_j = np.bincount(self.j, weights=ww4, minlength=self.x_j.size)
        w3_k = self.w_k - np.bincount(self.k, weights=ww4, minlength=self.x_k.size)
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + ux + s)
        d_r = _dot(self.wx, special.digamma(r + ux) - special.digamma(r) + np.log(alpha))
        d_r -= _dot(w3_k, ln_aT) + _dot(w4_j, ln_at)
        d_alpha = r / alpha - (
            _dot(w3_k, (r + self.x_k) / (alpha + self.T_k))
            + _dot(w4_j, (r + self.x_j) / (alpha + self.t_j))
        )
        d_a = _dot(self.wx, psi_ab - psi_abx) + w4_j.sum() / a
        d_b = _dot(self.wx, special.digamma(b + ux + s) - psi_abx - special.digamma(b) + psi_ab)
        d_b -= _dot(w4_j, 1.0 / (b + self.x1_j - 1.0))
        grad = -np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros(4)
        return -value, grad


def _best(objective, starts: list[Floats], bounds) -> optimize.OptimizeResult:
    """The best of _minimize from each start (a previous fit first: usually it is the one)."""
    best = None
    for first in starts:
        result = _minimize(objective, np.clip(first, *np.array(bounds).T), bounds)
        if best is None or (result.success and (not best.success or result.fun < best.fun)):
            best = result
        if best.success and not _at_boundary(best.x, bounds):
            break
    assert best is not None
    return best


def _minimize(objective, start: Floats, bounds=None) -> optimize.OptimizeResult:
    """L-BFGS-B with the analytic gradient, stopped on a relative change of the mean
    log-likelihood below 1e-12 or a gradient below 1e-9; when its line search gives up, which
    happens on flat ridges near the optimum, Nelder-Mead from where it stopped confirms or
    moves the point. A simplex that has not met its tolerances by NELDER_MEAD_MAX_EVALUATIONS
    but stands still (the mean log-likelihood within 1e-9 over its last evaluations, the
    gradient there small) has converged as far as the data can tell: accepted.
    """
    bounds = bounds or [_UNBOUNDED] * len(start)
    options = {"maxiter": 5000, "ftol": 1e-12, "gtol": 1e-9}
    result = optimize.minimize(
        objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    if result.success or _stationary(result):
        result.success = True
        return result
    # Bounded: every evaluation reads every distinct triple, so an unbounded simplex search on
    # a million customers ran for minutes inside the nightly rebuild.
    value_only = getattr(objective, "value", lambda params: objective(params)[0])
    simplex = optimize.minimize(
        value_only, result.x, method="Nelder-Mead", bounds=bounds,
        options={"maxfev": NELDER_MEAD_MAX_EVALUATIONS, "xatol": 1e-7, "fatol": 1e-12},
    )  # fmt: skip
    if simplex.success:
        return simplex
    # Polish where the simplex stopped: L-BFGS-B again, now near the optimum.
    polish = optimize.minimize(
        objective, simplex.x, jac=True, method="L-BFGS-B", bounds=bounds, options=options
    )
    if polish.success or _stationary(polish) or _flat(polish, simplex):
        polish.success = True
        return polish
    return simplex


# The objective is a mean log-likelihood per customer: a gradient this small in every
# log-parameter is a stationary point, whatever L-BFGS-B's line search then reported.
STATIONARY_GRADIENT = 1e-6
# Started where L-BFGS-B stopped, a 4-parameter simplex that converges does so in a few hundred
# evaluations; on data with no dropout (the 1M benchmark) it never does, and 3,000 evaluations
# cost 17 s per as-of date inside the rebuild's cache warming.
NELDER_MEAD_MAX_EVALUATIONS = 1000
# Two optimisers a mean log-likelihood of 1e-9 apart have found the same maximum.
FLAT_VALUE = 1e-9


def _stationary(result: optimize.OptimizeResult) -> bool:
    jac = getattr(result, "jac", None)
    return (
        jac is not None
        and bool(np.all(np.isfinite(jac)))
        and float(np.max(np.abs(jac))) < STATIONARY_GRADIENT
    )


def _flat(polish: optimize.OptimizeResult, simplex: optimize.OptimizeResult) -> bool:
    """L-BFGS-B and the simplex stand on the same plateau (a ridge the data cannot resolve)."""
    return bool(
        np.isfinite(polish.fun)
        and abs(float(polish.fun) - float(simplex.fun)) < FLAT_VALUE
        and float(np.max(np.abs(polish.jac))) < 1e3 * STATIONARY_GRADIENT
    )


def _at_boundary(log_params: Floats, bounds) -> bool:
    """A parameter within BOUNDARY_MARGIN (1%) of one of its limits."""
    margin = np.log1p(BOUNDARY_MARGIN)
    low, high = np.array(bounds).T
    return bool(np.any(log_params <= low + margin) or np.any(log_params >= high - margin))


def _check(result: optimize.OptimizeResult, model: str, bounds=None) -> None:
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ModelError(f"{model} fit gives values that are not finite", reason="not_finite")
    if not result.success:
        raise ModelError(f"{model} fit did not converge: {result.message}")
    if _at_boundary(result.x, bounds or [_UNBOUNDED] * len(result.x)):
        raise ModelError(
            f"{model} fit has its maximum at a limit of the parameters", reason="boundary"
        )


def purchase_p_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(alive at T | x, t_x, T) under the fit's model.

    BG/NBD: FHL 2005 eq. 8, 1 for x = 0 (the model's drop-out happens only right after a
    repeat purchase). MBG/NBD: 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), for every x.
    """
    s = _shift(fit.model)
    x, t_x, T = _arrays(x, t_x, T)
    branch = (x > 0) | (s > 0)
    x_safe = np.where(branch, x, 1.0)
    log_odds = (
        np.log(fit.a)
        - np.log(fit.b + x_safe + s - 1.0)
        + (fit.r + x) * (np.log(fit.alpha + T) - np.log(fit.alpha + t_x))
    )
    return np.where(branch, special.expit(-log_odds), 1.0)


def bgnbd_p_alive(fit: BgNbdFit, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(alive) under the fit's own model (BG/NBD: FHL 2005 eq. 8)."""
    return purchase_p_alive(fit, x, t_x, T)


def purchase_expected(
    fit: BgNbdFit, horizon: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """E[Y(horizon) | x, t_x, T]: expected buying days in (T, T + horizon] under the fit's model.

    BG/NBD, FHL 2005 eq. 10:
    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; z)] · P(alive).
    MBG/NBD (METRICS.md V):
    (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)] · P(alive),
    which is BG/NBD's bracket with b + 1 for b: the same computation, shifted.

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
    b = fit.b + _shift(fit.model)
    r, alpha, a = fit.r, fit.alpha, fit.a
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
        shifted = BgNbdFit(r=r, alpha=alpha, a=a, b=b, log_likelihood=0.0)
        if_alive[bad] = _expected_if_alive_by_quadrature(shifted, horizon, x[bad], T[bad])
    return if_alive * purchase_p_alive(fit, x, t_x, T)


def bgnbd_expected_purchases(
    fit: BgNbdFit, horizon: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """E[Y(horizon) | x, t_x, T] under the fit's own model (BG/NBD: FHL 2005 eq. 10)."""
    return purchase_expected(fit, horizon, x, t_x, T)


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
        raise ModelError(
            f"expected purchases cannot be computed for Beta({a:.3g}, {c:.3g})",
            reason="not_finite",
        )
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
    """Maximum-likelihood p, q, γ over customers with x ≥ 1 and m > 0 (`start` as above).

    Fitted on m divided by its mean S: γ then is of order one whatever the currency (rupiah
    put γ in the millions, beside p and q near one), and γ = S · γ' with the log-likelihood
    less ln S per customer (the density of m is that of m/S divided by S).
    """
    x, m = _arrays(x, m)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    usable = (x > 0) & (m > 0)
    x, m, w = x[usable], m[usable], w[usable]
    if float(w.sum()) < MIN_REPEAT_CUSTOMERS:
        raise ModelError(
            f"fewer than {MIN_REPEAT_CUSTOMERS} customers with a repeat buying day",
            reason="few_repeat",
        )
    total = float(w.sum())
    w = w / total
    scale = _dot(w, m)
    m = m / scale
    ln_m, ln_x = np.log(m), np.log(x)

    def objective(log_params: Floats) -> tuple[float, Floats]:
        p, q, gamma = np.exp(log_params)
        px = p * x
        ln_gmx = np.log(gamma + m * x)
        value = _dot(w, gamma_gamma_log_likelihood(p, q, gamma, x, m))
        psi_pxq = special.digamma(px + q)
        d_p = _dot(w, x * (psi_pxq - special.digamma(px) + ln_m + ln_x - ln_gmx))
        d_q = _dot(w, psi_pxq - special.digamma(q) + np.log(gamma) - ln_gmx)
        d_gamma = _dot(w, q / gamma - (px + q) / (gamma + m * x))
        grad = -np.array([d_p * p, d_q * q, d_gamma * gamma])
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return 1e300, np.zeros(3)
        return -value, grad

    low, high = np.log(PARAMETER_LIMITS)
    bounds = [(low, high), (low, high), _UNBOUNDED]
    starts = [_GG_START]
    if start is not None:
        starts.insert(0, np.log([start.p, start.q, start.gamma / scale]))
    result = _best(objective, starts, bounds)
    _check(result, "Gamma-Gamma", bounds)
    p, q, gamma = (float(v) for v in np.exp(result.x))
    if q <= 1.0:
        # The population mean pγ/(q−1) does not exist: no value can be predicted.
        raise ModelError(
            f"Gamma-Gamma fit has q = {q:.3f} <= 1: the mean value is infinite",
            reason="infinite_mean",
        )
    log_likelihood = (-float(result.fun) - np.log(scale)) * total
    return GammaGammaFit(p=p, q=q, gamma=gamma * scale, log_likelihood=log_likelihood)


def gamma_gamma_expected_value(fit: GammaGammaFit, x: ArrayLike, m: ArrayLike) -> Floats:
    """E[value of a buying day | x, m] = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m.

    For x = 0 this is the population mean pγ/(q−1) (m is then ignored).
    """
    x, m = _arrays(x, m)
    p, q, gamma = fit.p, fit.q, fit.gamma
    population = p * gamma / (q - 1.0)
    weight = p * x / (p * x + q - 1.0)
    return (1.0 - weight) * population + weight * np.where(x > 0, m, 0.0)
