"""Gamma-Gamma: spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013).

For a customer with x > 0 repeat purchases of mean value m: each purchase value is gamma(p, nu),
nu gamma(q, gamma) across customers. Fitted on customers with x > 0 and m > 0 only.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from flows.clv.fitting import FitResult, aggregate_rows, maximise

PARAMETERS = ("p", "q", "gamma")


def log_likelihood_terms(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """ln L = lnG(p x + q) - lnG(p x) - lnG(q) + q ln(gamma) + (p x - 1) ln(m) + p x ln(x)
    - (p x + q) ln(x m + gamma) (the density of the mean m of x purchase values)."""
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + gamma)
    )


def log_likelihood(params, x, m, weights=None) -> float:
    terms = log_likelihood_terms(np.asarray(params, dtype=float), x, m)
    return float(np.sum(terms if weights is None else weights * terms))


def log_likelihood_gradient(params, x, m, weights=None) -> np.ndarray:
    """d ln L / d (p, q, gamma), summed over customers."""
    p, q, gamma = np.asarray(params, dtype=float)
    px = p * x
    log_total = np.log(x * m + gamma)
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_total)
    d_q = digamma(px + q) - digamma(q) + np.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (x * m + gamma)
    terms = np.stack([d_p, d_q, d_gamma])
    return terms.sum(axis=1) if weights is None else terms @ weights


def in_model(x, m) -> np.ndarray:
    """The customers the model is fitted on: at least one repeat purchase, of positive mean value."""
    x = np.asarray(x, dtype=float)
    m = np.asarray(m, dtype=float)
    return (x > 0) & (m > 0)


def fit(x, m) -> FitResult:
    """Maximum likelihood estimates of p, q, gamma over the customers `in_model`; start values
    p = q = 1, gamma = mean spend."""
    keep = in_model(x, m)
    (xs, ms), weights = aggregate_rows(np.asarray(x, dtype=float)[keep], np.asarray(m, dtype=float)[keep])
    if len(xs) == 0:
        raise ValueError("Gamma-Gamma: no customer with a repeat purchase of positive value")
    initial = np.array([1.0, 1.0, max(float(np.average(ms, weights=weights)), 1e-3)])
    return maximise(
        PARAMETERS,
        lambda p: log_likelihood(p, xs, ms, weights),
        initial,
        customers=int(weights.sum()),
        gradient=lambda p: log_likelihood_gradient(p, xs, ms, weights),
    )


def population_mean_spend(params) -> float:
    """E[M] of a customer without repeat purchases: p gamma / (q - 1) (NaN when q <= 1: no mean)."""
    p, q, gamma = params
    return p * gamma / (q - 1) if q > 1 else float("nan")


def conditional_mean_spend(params, x, m) -> np.ndarray:
    """E[M | x, m] = (q - 1) / (p x + q - 1) x p gamma / (q - 1) + p x / (p x + q - 1) x m: a weighted
    mean of the population mean and the customer's own mean (the population mean for x = 0)."""
    p, q, gamma = params
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    if q <= 1:
        return np.full(x.shape, np.nan)
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population_mean_spend(params) + weight * m
