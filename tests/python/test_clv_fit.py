"""The BG/NBD and Gamma-Gamma functions of flows/clv on hand-computed cases and the CDNOW summary
(lifetimes ships it; lifetimes is a test-only reference)."""

from __future__ import annotations

import numpy as np
import pytest

from flows.clv import bgnbd, gamma_gamma, value
from flows.clv.fitting import aggregate_rows

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def cdnow():
    datasets = pytest.importorskip("lifetimes.datasets")
    return datasets.load_cdnow_summary_data_with_monetary_value()


def test_bgnbd_fit_on_the_cdnow_summary_is_the_published_one(cdnow) -> None:
    fit = bgnbd.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert fit.converged
    assert fit.customers == 2357
    for name, published in {"r": 0.2426, "alpha": 4.4136, "a": 0.7929, "b": 2.4259}.items():
        assert fit.params[name] == pytest.approx(published, rel=1e-3), name
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    # the standard errors lifetimes reports for this fit (inverse Hessian)
    for name, se in zip(fit.names, (0.0126, 0.3782, 0.1857, 0.7053)):
        assert fit.standard_errors[fit.names.index(name)] == pytest.approx(se, rel=0.01), name


def test_gamma_gamma_fit_on_the_cdnow_summary_is_the_published_one(cdnow) -> None:
    fit = gamma_gamma.fit(cdnow["frequency"], cdnow["monetary_value"])
    assert fit.converged
    assert fit.customers == 946  # repeat buyers only
    for name, published in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():  # published to 2 decimals
        assert fit.params[name] == pytest.approx(published, abs=0.01), name


def test_p_alive_by_hand() -> None:
    params = (1.0, 1.0, 1.0, 2.0)  # r, alpha, a, b
    # x = 1, t_x = 1, T = 2: odds = a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x) = 1/2 (3/2)^2 = 9/8
    # a customer without repeat purchases is alive for sure
    assert bgnbd.p_alive(params, [1, 0], [1, 0], [2, 5]) == pytest.approx([1 / (1 + 9 / 8), 1.0], rel=1e-12)


def test_expected_purchases_of_a_new_customer_is_the_conditional_one_at_zero() -> None:
    params = (0.5, 3.0, 0.8, 2.5)
    t = np.array([1.0, 10.0, 52.0])
    new = bgnbd.expected_purchases_new(params, t)
    conditional = np.array([bgnbd.expected_purchases(params, h, [0], [0], [0])[0] for h in t])
    assert conditional == pytest.approx(new, rel=1e-10)
    assert bgnbd.expected_purchases_new(params, [0.0]) == pytest.approx([0.0])


def test_gamma_gamma_conditional_mean_by_hand() -> None:
    params = (2.0, 3.0, 10.0)  # p, q, gamma: population mean p gamma / (q - 1) = 10
    # x = 2, m = 20: weight p x / (p x + q - 1) = 4 / 6; 10 x 2/6 + 20 x 4/6 = 50/3; x = 0: the population mean
    assert gamma_gamma.conditional_mean_spend(params, [2, 0], [20, 0]) == pytest.approx([50 / 3, 10.0], rel=1e-12)
    assert gamma_gamma.in_model([0, 2, 3], [0.0, 0.0, 5.0]).tolist() == [False, False, True]


def test_identical_customers_are_aggregated_with_their_counts() -> None:
    (x, t_x), weights = aggregate_rows([1, 0, 1, 1], [2.0, 0.0, 2.0, 3.0])
    assert list(zip(x, t_x, weights)) == [(0.0, 0.0, 1.0), (1.0, 2.0, 2.0), (1.0, 3.0, 1.0)]
    params = np.array([0.5, 3.0, 0.8, 2.5])
    rows = (np.array([1, 0, 1, 1.0]), np.array([2.0, 0, 2, 3]), np.array([5.0, 4, 5, 6]))
    (ux, ut, uT), w = aggregate_rows(*rows)
    assert bgnbd.log_likelihood(params, ux, ut, uT, w) == pytest.approx(bgnbd.log_likelihood(params, *rows), rel=1e-12)


def test_without_discounting_the_discounted_purchases_are_the_expected_purchases_over_the_horizon() -> None:
    params = (0.5, 3.0, 0.8, 2.5)
    x, t_x, age = np.array([0.0, 2, 5]), np.array([0.0, 10, 30]), np.array([20.0, 40, 35])
    horizon = value.months_to_time_units(36, 7)
    undiscounted = value.discounted_expected_purchases(params, x, t_x, age, 7, 36, 0.0)
    assert undiscounted == pytest.approx(bgnbd.expected_purchases(params, horizon, x, t_x, age), rel=1e-12)
    discounted = value.discounted_expected_purchases(params, x, t_x, age, 7, 36, 0.10)
    assert np.all(discounted < undiscounted)
    assert value.months_to_time_units(12, 7) == pytest.approx(365.25 / 7)
    assert value.monthly_discount_factors(12, 0.10)[-1] == pytest.approx(1 / 1.1)


def test_nothing_to_fit_is_an_error() -> None:
    with pytest.raises(ValueError, match="no customers"):
        bgnbd.fit([], [], [])
    with pytest.raises(ValueError, match="no customer with a repeat purchase"):
        gamma_gamma.fit([0, 0], [0.0, 0.0])


def test_analytic_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, 50).astype(float)
    age = rng.uniform(5, 40, 50)
    t_x = np.where(x > 0, age * rng.uniform(0.1, 1, 50), 0.0)
    m = rng.uniform(5, 50, 50)
    for module, params, args in (
        (bgnbd, np.array([0.4, 3.0, 0.9, 2.2]), (x, t_x, age)),
        (gamma_gamma, np.array([4.0, 3.0, 12.0]), (np.maximum(x, 1), m)),
    ):
        analytic = module.log_likelihood_gradient(params, *args)
        numeric = []
        for i in range(len(params)):
            step = np.zeros(len(params))
            step[i] = 1e-6 * params[i]
            numeric.append(
                (module.log_likelihood(params + step, *args) - module.log_likelihood(params - step, *args))
                / (2 * step[i])
            )
        assert analytic == pytest.approx(np.array(numeric), rel=1e-5), module.__name__
