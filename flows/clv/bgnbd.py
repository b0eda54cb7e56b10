"""BG/NBD: repeat purchasing while alive (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

A customer's summary: x = repeat purchases (frequency), t_x = time of the last purchase since the
first (recency), T = time from the first purchase to the end of the calibration period, all in one
time unit. Parameters r, alpha (gamma-distributed purchase rates) and a, b (beta-distributed
probability of dropping out after a purchase).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from flows.clv.fitting import FitResult, aggregate_rows, maximise, unique_rows

PARAMETERS = ("r", "alpha", "a", "b")


def log_likelihood_terms(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """The log-likelihood of each customer (equation 6 of the paper, in logs):
    ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4)) with
    A1 = lnG(r + x) - lnG(r) + r ln(alpha), A2 = lnG(a + b) + lnG(b + x) - lnG(b) - lnG(a + b + x),
    A3 = -(r + x) ln(alpha + T), A4 = ln(a) - ln(b + x - 1) - (r + x) ln(alpha + t_x)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x)
    return a1 + a2 + np.where(x > 0, np.logaddexp(a3, a4), a3)


def log_likelihood(params: np.ndarray, x, t_x, T, weights=None) -> float:
    """Total log-likelihood (each row counted `weights` times)."""
    terms = log_likelihood_terms(np.asarray(params, dtype=float), x, t_x, T)
    return float(np.sum(terms if weights is None else weights * terms))


def log_likelihood_gradient(params, x, t_x, T, weights=None) -> np.ndarray:
    """d ln L / d (r, alpha, a, b), summed over customers: dA1 + dA2 + (1 - w) dA3 + w dA4 with w the
    weight of exp(A4) in the sum of exponentials (0 without repeat purchases)."""
    r, alpha, a, b = np.asarray(params, dtype=float)
    repeat = x > 0
    bx = np.where(repeat, b + x - 1, 1.0)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(bx) - (r + x) * np.log(alpha + t_x)
    w = np.where(repeat, np.exp(a4 - np.logaddexp(a3, a4)), 0.0)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - (1 - w) * np.log(alpha + T) - w * np.log(alpha + t_x)
    d_alpha = r / alpha - (1 - w) * (r + x) / (alpha + T) - w * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w / bx
    terms = np.stack([d_r, d_alpha, d_a, d_b])
    return terms.sum(axis=1) if weights is None else terms @ weights


def fit(x, t_x, T) -> FitResult:
    """Maximum likelihood estimates of r, alpha, a, b from per-customer arrays. Identical
    customers are aggregated first; the start values are r = a = b = 1, alpha = mean T."""
    (xs, txs, Ts), weights = aggregate_rows(x, t_x, T)
    if len(xs) == 0:
        raise ValueError("BG/NBD: no customers to fit")
    initial = np.array([1.0, max(float(np.average(Ts, weights=weights)), 1e-3), 1.0, 1.0])
    return maximise(
        PARAMETERS,
        lambda p: log_likelihood(p, xs, txs, Ts, weights),
        initial,
        customers=int(weights.sum()),
        gradient=lambda p: log_likelihood_gradient(p, xs, txs, Ts, weights),
    )


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x));
    1 for a customer without repeat purchases."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    t_x = np.asarray(t_x, dtype=float)
    T = np.asarray(T, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = (
            np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        odds = np.where(x > 0, np.exp(log_ratio), 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases_new(params, t) -> np.ndarray:
    """E[X(t)], the expected purchases of a new customer in the t time units after the first:
    (a + b - 1) / (a - 1) [1 - (alpha / (alpha + t))^r 2F1(r, b; a + b - 1; t / (alpha + t))]."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=float)
    hyp = hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp)


def expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T], the expected purchases in the next t time units (equation 10):
    (a + b + x - 1) / (a - 1) [1 - ((alpha + T) / (alpha + T + t))^(r + x)
    2F1(r + x, b + x; a + b + x - 1; t / (alpha + T + t))] / (1 + [x > 0] a / (b + x - 1)
    ((alpha + T) / (alpha + t_x))^(r + x)). `t` is one horizon for every customer."""
    return next(iter(expected_purchases_over(params, [t], x, t_x, T)))


def expected_purchases_over(params, horizons, x, t_x, T):
    """E[Y(t) | x, t_x, T] for each t of `horizons` in turn (a generator of per-customer arrays). The
    hypergeometric part depends on (x, T, t) only: it is evaluated once per distinct (x, T)."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=float)
    T = np.asarray(T, dtype=float)
    alive = p_alive(params, x, t_x, T)
    if len(x) == 0:
        for _ in horizons:
            yield np.empty(0)
        return
    (ux, uT), index, _ = unique_rows(x, T)
    scale = (a + b + x - 1) / (a - 1) * alive
    for t in horizons:
        t = float(t)
        with np.errstate(over="ignore", invalid="ignore"):
            hyp = hyp2f1(r + ux, b + ux, a + b + ux - 1, t / (alpha + uT + t))
            bracket = 1 - ((alpha + uT) / (alpha + uT + t)) ** (r + ux) * hyp
        yield scale * bracket[index]
