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
