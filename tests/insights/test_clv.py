"""insights.clv: closed forms against values computed by hand (mpmath, 30 digits, straight
from the papers' formulas without any transformation), and the fits' guards."""

import numpy as np
import pytest
from scipy import optimize

from insights import clv

# FHL 2005's CDNOW estimates in weeks, the paper's own worked example uses them.
WEEKS = clv.BgNbdFit(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0)
GG = clv.GammaGammaFit(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0)

# (x, t_x, T): P(alive), E[Y(39)], E[Y(5000)], log-likelihood
CASES = [
    ((2, 30.43, 38.86), 0.726578570081, 1.22602817477, 19.4416298346, -9.45860630707),
    ((0, 0.0, 38.86), 1.0, 0.195098052011, 4.93156390085, -0.554713276438),
    ((1, 2.0, 38.86), 0.221870900565, 0.212546300651, 3.86042751719, -4.51412645139),
    ((50, 30.0, 38.86), 0.000649914707391, 0.0226188917995, 0.27157379575, -39.8649672448),
    ((200, 380.0, 390.0), 0.597463926557, 11.3957793706, 417.474069398, -341.694492774),
]


@pytest.mark.parametrize(("triple", "alive", "e39", "e5000", "ll"), CASES)
def test_closed_forms_match_hand_computed_values(triple, alive, e39, e5000, ll):
    x, t_x, T = triple
    assert clv.bgnbd_p_alive(WEEKS, [x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-9)
    # 1.226 is the paper's own example (x = 2, t_x = 30.43, T = 38.86, the next 39 weeks).
    assert clv.bgnbd_expected_purchases(WEEKS, 39.0, [x], [t_x], [T])[0] == pytest.approx(
        e39, rel=1e-8
    )
    # A horizon far beyond T puts z = t / (α + T + t) near 1, where 2F1 itself diverges.
    assert clv.bgnbd_expected_purchases(WEEKS, 5000.0, [x], [t_x], [T])[0] == pytest.approx(
        e5000, rel=1e-8
    )
    log_likelihood = clv.bgnbd_log_likelihood(0.243, 4.414, 0.793, 2.426, [x], [t_x], [T])[0]
    assert log_likelihood == pytest.approx(ll, rel=1e-9)


def test_large_x_stays_finite():
    # Γ(r + x) and (α + T)^(r + x) overflow a float for x in the thousands; logs do not.
    x, t_x, T = [5000.0], [700.0], [730.0]
    assert np.isfinite(clv.bgnbd_log_likelihood(0.243, 4.414, 0.793, 2.426, x, t_x, T)[0])
    alive = clv.bgnbd_p_alive(WEEKS, x, t_x, T)[0]
    expected = clv.bgnbd_expected_purchases(WEEKS, 365.0, x, t_x, T)[0]
    assert 0.0 < alive < 1.0
    assert np.isfinite(expected) and expected > 0.0


def test_gamma_gamma_expected_value_and_likelihood():
    # (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m
    values = clv.gamma_gamma_expected_value(GG, [1, 4, 0], [20.0, 35.5, 0.0])
    assert values == pytest.approx([24.638487208, 35.4722422495, 35.2189781022], rel=1e-9)
    # x = 0: the population mean pγ / (q − 1) = 6.25 × 15.44 / 2.74
    assert values[2] == pytest.approx(6.25 * 15.44 / 2.74, rel=1e-12)
    ll = clv.gamma_gamma_log_likelihood(6.25, 3.74, 15.44, [1, 4], [20.0, 35.5])
    assert ll == pytest.approx([-3.59419649295, -4.07434777299], rel=1e-9)


def _customers():
    # 12 repeat customers and 8 one-timers, T = 100 days
    x = np.array([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12] + [0] * 8, dtype=float)
    t_x = np.array([10, 60, 20, 90, 30, 80, 50, 70, 95, 85, 99, 98] + [0] * 8, dtype=float)
    return x, t_x, np.full(20, 100.0)


def test_weighted_fit_equals_the_fit_over_every_customer():
    # given the same customers, once each and once as distinct triples with counts
    x, t_x, T = _customers()
    repeated = (np.repeat(x, 3), np.repeat(t_x, 3), np.repeat(T, 3))
    # when
    plain = clv.bgnbd_fit(*repeated)
    weighted = clv.bgnbd_fit(x, t_x, T, weights=np.full(20, 3.0))
    # then
    assert weighted.r == pytest.approx(plain.r, rel=1e-4)
    assert weighted.alpha == pytest.approx(plain.alpha, rel=1e-4)
    assert weighted.log_likelihood == pytest.approx(plain.log_likelihood, rel=1e-8)


def test_too_few_repeat_customers_cannot_be_fitted():
    x, t_x, T = _customers()
    x[:3] = 0  # 9 customers with x > 0
    with pytest.raises(clv.ModelError, match="fewer than 10"):
        clv.bgnbd_fit(x, t_x, T)
    with pytest.raises(clv.ModelError, match="fewer than 10"):
        clv.gamma_gamma_fit(x, np.full(20, 10.0))


def test_gamma_gamma_ignores_zero_means():
    # m = 0 has likelihood 0 under a gamma density: those customers cannot inform the fit.
    x = np.array([1.0] * 9 + [2.0])  # 10 repeat customers, one of them with m = 0
    m = np.array([0.0] + [10.0 + i for i in range(8)] + [12.0])
    with pytest.raises(clv.ModelError, match="fewer than 10"):
        clv.gamma_gamma_fit(x, m)


# Large a and b (a fit with almost no drop-out): scipy's 2F1 overflows; hand values (mpmath)
# of eq. 10 as printed, divided by P(alive): E[Y(t) | alive].
LARGE_AB = clv.BgNbdFit(r=0.885, alpha=21.6, a=1189.3, b=2322.5, log_likelihood=0.0)


@pytest.mark.parametrize(
    ("x", "T", "t", "if_alive"),
    [(3, 300.0, 365.0, 2.119593368450373), (0, 100.0, 365.0, 1.3656937049272508)],
)
def test_expected_purchases_when_hyp2f1_overflows(x, T, t, if_alive):
    alive = clv.bgnbd_p_alive(LARGE_AB, [x], [T - 10.0 if x else 0.0], [T])[0]
    got = clv.bgnbd_expected_purchases(LARGE_AB, t, [x], [T - 10.0 if x else 0.0], [T])[0]
    assert got == pytest.approx(if_alive * alive, rel=1e-10)


def test_bgnbd_gradient_matches_finite_differences():
    # given the analytic gradient the fit uses
    x, t_x, T = _customers()
    objective = clv._BgNbdObjective(x, t_x, T, np.arange(1.0, 21.0))
    # when / then, at a few points of log-parameter space
    for point in ([0.0, 1.0, 0.5, -0.3], np.log([0.243, 30.9, 0.793, 2.426])):
        error = optimize.check_grad(lambda v: objective(v)[0], lambda v: objective(v)[1], point)
        assert error < 1e-5 * max(1.0, np.abs(objective(point)[1]).max())


def test_quadrature_in_blocks_equals_one_block(monkeypatch):
    # given: more customers with the same x than one block holds, with different T
    x = np.array([0.0] * 7 + [3.0] * 5)
    T = np.linspace(50.0, 400.0, len(x))
    whole = clv._expected_if_alive_by_quadrature(LARGE_AB, 365.0, x, T)
    # when: the rows go through the quadrature three at a time
    monkeypatch.setattr(clv, "QUADRATURE_BLOCK_ROWS", 3)
    blocks = clv._expected_if_alive_by_quadrature(LARGE_AB, 365.0, x, T)
    # then: every row has the same value (to rounding: the matrix product's summation order
    # depends on its shape), each from its own T (not a neighbour's)
    assert blocks.tolist() == pytest.approx(whole.tolist(), rel=1e-12)
    assert len(set(blocks[:7].tolist())) == 7
    assert blocks[0] == pytest.approx(
        clv._expected_if_alive_by_quadrature(LARGE_AB, 365.0, x[:1], T[:1])[0], rel=1e-15
    )


def test_the_value_only_objective_equals_the_full_one():
    # Nelder-Mead reads value() alone; it must be the same number L-BFGS-B minimises.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 6, 200).astype(float)
    T = rng.integers(30, 400, 200).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.random(200)), 0.0)
    objective = clv._BgNbdObjective(x, t_x, T, np.ones(200))
    for log_params in rng.normal(0, 1, (5, 4)):
        assert objective.value(log_params) == objective(log_params)[0]


# --- MBG/NBD (Batislam et al. 2007 with Wagner and Hoppe's erratum) ---------------------------

# The MBG/NBD fit on CDNOW in weeks (METRICS.md V): r 0.525, α 6.183, a 0.891, b 1.614.
MBG_WEEKS = clv.BgNbdFit(r=0.525, alpha=6.183, a=0.891, b=1.614, log_likelihood=0.0,
                         model="mbgnbd")  # fmt: skip

# (x, t_x, T): P(alive), E[Y(39)], log-likelihood, each straight from METRICS.md V's formulas
# with math.lgamma and scipy's hyp2f1 untransformed; E[Y(39)] agrees to 1e-13 with an
# independent quadrature of its definition (the expectation over p ~ Beta(a, b+x+1)).
MBG_CASES = [
    ((2, 30.43, 38.86), 0.7062022651184873, 1.2629606232673432, -9.48555131453393),
    ((0, 0.0, 38.86), 0.3897350809187629, 0.15401274667514553, -0.539837463531015),
    ((1, 2.0, 38.86), 0.1787727181446566, 0.19760897047845863, -4.505769013679968),
    ((5, 30.0, 38.86), 0.6887900398195564, 2.6026622318667596, -17.6379499024371),
    ((0, 0.0, 10.0), 0.5222337327821048, 0.48275059815976673, -0.2950659392517183),
]


@pytest.mark.parametrize(("triple", "alive", "e39", "ll"), MBG_CASES)
def test_mbgnbd_closed_forms_match_hand_computed_values(triple, alive, e39, ll):
    x, t_x, T = triple
    assert clv.purchase_p_alive(MBG_WEEKS, [x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-12)
    assert clv.purchase_expected(MBG_WEEKS, 39.0, [x], [t_x], [T])[0] == pytest.approx(
        e39, rel=1e-9
    )
    got = clv.purchase_log_likelihood("mbgnbd", 0.525, 6.183, 0.891, 1.614, [x], [t_x], [T])[0]
    assert got == pytest.approx(ll, rel=1e-12)


def test_one_time_buyers_get_a_p_alive_below_one_under_mbgnbd_only():
    # given one-time buyers of different ages
    x, t_x, T = [0, 0, 0], [0.0, 0.0, 0.0], [1.0, 30.0, 300.0]
    # then MBG/NBD: 1 / (1 + a/b · ((α + T)/α)^r), below 1 and falling with T; BG/NBD: 1
    mbg = clv.purchase_p_alive(MBG_WEEKS, x, t_x, T)
    by_hand = [1 / (1 + 0.891 / 1.614 * ((6.183 + t) / 6.183) ** 0.525) for t in T]
    assert mbg.tolist() == pytest.approx(by_hand, rel=1e-12)
    assert 1 > mbg[0] > mbg[1] > mbg[2] > 0
    assert clv.purchase_p_alive(WEEKS, x, t_x, T).tolist() == [1.0, 1.0, 1.0]


def test_mbgnbd_expected_purchases_when_hyp2f1_overflows():
    # MBG/NBD's expectation is BG/NBD's with b + 1 for b: the quadrature path agrees with it.
    large = clv.BgNbdFit(r=0.885, alpha=21.6, a=1189.3, b=2322.5, log_likelihood=0.0,
                         model="mbgnbd")  # fmt: skip
    shifted = clv.BgNbdFit(r=0.885, alpha=21.6, a=1189.3, b=2323.5, log_likelihood=0.0)
    for x, T in ((3, 300.0), (0, 100.0)):
        t_x = T - 10.0 if x else 0.0
        got = clv.purchase_expected(large, 365.0, [x], [t_x], [T])[0]
        if_alive = clv._expected_if_alive_by_quadrature(shifted, 365.0, np.array([x * 1.0]),
                                                        np.array([T]))[0]  # fmt: skip
        alive = clv.purchase_p_alive(large, [x], [t_x], [T])[0]
        assert np.isfinite(got) and got == pytest.approx(if_alive * alive, rel=1e-9)


def _cdnow_weeks():
    """CDNOW_sample.txt to 1997-09-30 as (x, t_x, T) in weeks, counting buying days."""
    from datetime import date
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "CDNOW_sample.txt"
    end = date(1997, 9, 30).toordinal()
    days: dict[str, set[int]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            master, _sample, day, _cds, _dollars = line.split()
            ordinal = date(int(day[:4]), int(day[4:6]), int(day[6:])).toordinal()
            if ordinal <= end:
                days.setdefault(master, set()).add(ordinal)
    rows = [(len(d) - 1, (max(d) - min(d)) / 7, (end - min(d)) / 7) for d in days.values()]
    return (np.array(column, dtype=float) for column in zip(*rows, strict=True))


@pytest.mark.parametrize(
    ("model", "published"),
    [
        ("mbgnbd", {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
        ("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    ],
)
def test_cdnow_fit_in_weeks_matches_the_published_parameters(model, published):
    # given the CDNOW sample: 2,357 customers, 946 with a repeat buying day
    x, t_x, T = _cdnow_weeks()
    assert (len(x), int((x > 0).sum())) == (2357, 946)
    # when
    fit = clv.purchase_fit(x, t_x, T, model=model)
    # then, to the published 3 decimals
    assert fit.model == model
    for name, value in published.items():
        assert getattr(fit, name) == pytest.approx(value, abs=0.0015), name


def _simulate(rng, n, r, alpha, a, b, *, modified):
    """Customers drawn from the model itself: rate λ ~ Gamma(r, α), drop-out p ~ Beta(a, b);
    MBG/NBD tosses the drop-out coin at the first purchase too. Whole days, as in the data."""
    lam, p = rng.gamma(r, 1.0 / alpha, n), rng.beta(a, b, n)
    T = rng.integers(60, 721, n).astype(float)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        if modified and rng.random() < p[i]:
            continue
        t = rng.exponential(1.0 / lam[i])
        while t <= T[i]:
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
            t += rng.exponential(1.0 / lam[i])
    return x, np.floor(t_x), T


@pytest.mark.parametrize("model", ["mbgnbd", "bgnbd"])
def test_fit_recovers_the_parameters_the_data_was_drawn_from(model):
    # given 5,000 customers drawn from r 0.8, α 40 days, a 1.5, b 4
    rng = np.random.default_rng(31)
    x, t_x, T = _simulate(rng, 5000, 0.8, 40.0, 1.5, 4.0, modified=model == "mbgnbd")
    # when, from the data's own start (not from the truth)
    fit = clv.purchase_fit(x, t_x, T, model=model)
    # then, within sampling error (a and b alone are loosely pinned by 5,000 customers; the
    # mean drop-out probability a / (a + b) much better)
    assert fit.r == pytest.approx(0.8, rel=0.1)
    assert fit.alpha == pytest.approx(40.0, rel=0.1)
    assert fit.a == pytest.approx(1.5, rel=0.2)
    assert fit.b == pytest.approx(4.0, rel=0.2)
    assert fit.a / (fit.a + fit.b) == pytest.approx(1.5 / 5.5, rel=0.08)
    # and it is the maximum: started from the truth, the optimiser ends at the same point
    truth = clv.BgNbdFit(r=0.8, alpha=40.0, a=1.5, b=4.0, log_likelihood=0.0, model=model)
    again = clv.purchase_fit(x, t_x, T, start=truth, model=model)
    assert again.log_likelihood == pytest.approx(fit.log_likelihood, abs=1e-5)
    assert again.r == pytest.approx(fit.r, rel=1e-3)


def test_a_maximum_at_a_limit_is_not_fitted_and_says_why():
    # given customers who all buy every 30 days and never stop: no spread of rates and no
    # drop-out, so the likelihood grows towards r, α → ∞ (and a, b → ∞ under BG/NBD)
    T = np.arange(100.0, 700.0, 5.0)
    x = np.floor(T / 30.0)
    t_x = x * 30.0
    for model in ("mbgnbd", "bgnbd"):
        with pytest.raises(clv.ModelError, match="at a limit") as caught:
            clv.purchase_fit(x, t_x, T, model=model)
        assert caught.value.reason == "boundary"


def test_mbgnbd_gradient_matches_finite_differences():
    x, t_x, T = _customers()
    objective = clv._BgNbdObjective(x, t_x, T, np.arange(1.0, 21.0), model="mbgnbd")
    for point in ([0.0, 1.0, 0.5, -0.3], np.log([0.525, 43.3, 0.891, 1.614])):
        error = optimize.check_grad(lambda v: objective(v)[0], lambda v: objective(v)[1], point)
        assert error < 1e-5 * max(1.0, np.abs(objective(point)[1]).max())
        assert objective.value(point) == objective(point)[0]


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="mbgnbd, bgnbd"):
        clv.purchase_fit([1.0] * 20, [5.0] * 20, [10.0] * 20, model="pareto")


def test_gamma_gamma_fit_does_not_depend_on_the_currency_unit():
    # given the same spend in dollars and in rupiah (× 15,000)
    rng = np.random.default_rng(7)
    x = rng.integers(1, 8, 400).astype(float)
    m = rng.gamma(4.0, 10.0, 400)
    dollars = clv.gamma_gamma_fit(x, m)
    rupiah = clv.gamma_gamma_fit(x, m * 15000.0)
    # then p and q are the same and γ scales with the unit
    assert rupiah.p == pytest.approx(dollars.p, rel=1e-6)
    assert rupiah.q == pytest.approx(dollars.q, rel=1e-6)
    assert rupiah.gamma == pytest.approx(dollars.gamma * 15000.0, rel=1e-6)
    assert rupiah.log_likelihood == pytest.approx(
        dollars.log_likelihood - 400 * np.log(15000.0), rel=1e-9
    )


def test_softplus_and_dot_are_logaddexp_and_dot_to_rounding():
    # given values across the range an objective meets: 0, ±tiny, ±huge, −∞ (a BG/NBD x = 0)
    rng = np.random.default_rng(11)
    v = np.concatenate([rng.normal(0.0, 30.0, 5000), [0.0, 1e-300, -1e-300, 800.0, -800.0]])
    # then: ln(1 + e^v) to an ulp or two, and no overflow at 800
    assert np.allclose(clv._softplus(v), np.logaddexp(0.0, v), rtol=4e-16, atol=0.0)
    assert clv._softplus(np.array([-np.inf]))[0] == 0.0
    assert clv._softplus(np.array([800.0]))[0] == 800.0
    # and the one-thread sum of products is np.dot's (20,000 terms: past OpenBLAS's threads)
    left, right = rng.random(20000), rng.normal(size=20000)
    assert clv._dot(left, right) == pytest.approx(float(np.dot(left, right)), rel=1e-12)
