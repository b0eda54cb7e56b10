"""Maximum likelihood on log-parameters: L-BFGS-B, standard errors from the inverse Hessian."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

#: log-parameters are kept in [-LOG_BOUND, LOG_BOUND] (e^±25): far outside any plausible value
LOG_BOUND = 25.0


@dataclass(frozen=True)
class FitResult:
    """Estimates and standard errors per parameter (in the order of `names`), the maximised
    log-likelihood, the number of customers it is over and whether the optimiser converged."""

    names: tuple[str, ...]
    estimates: tuple[float, ...]
    standard_errors: tuple[float, ...]
    log_likelihood: float
    customers: int
    converged: bool
    iterations: int
    message: str

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(self.names, self.estimates))


def aggregate_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns and how often each occurs (the likelihood of identical
    customers is computed once and weighted): at a million customers a few ten thousand rows remain."""
    stacked = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    if len(stacked) == 0:
        return [np.empty(0) for _ in columns], np.empty(0)
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return [unique[:, i] for i in range(unique.shape[1])], counts.astype(float)


def numerical_hessian(function: Callable[[np.ndarray], float], point: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central finite-difference Hessian of a scalar function."""
    n = len(point)
    hessian = np.empty((n, n))
    steps = step * np.maximum(1.0, np.abs(point))
    for i in range(n):
        for j in range(i, n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = steps[i]
            ej[j] = steps[j]
            value = (
                function(point + ei + ej)
                - function(point + ei - ej)
                - function(point - ei + ej)
                + function(point - ei - ej)
            ) / (4 * steps[i] * steps[j])
            hessian[i, j] = hessian[j, i] = value
    return hessian


def maximise(
    names: tuple[str, ...],
    log_likelihood: Callable[[np.ndarray], float],
    initial: np.ndarray,
    customers: int,
) -> FitResult:
    """Maximise `log_likelihood(natural parameters)` over log-parameters with L-BFGS-B.

    Standard errors: the inverse of the Hessian of the negative log-likelihood in log-parameters,
    mapped to the natural parameters by the delta method (se(theta) = theta x se(log theta)); NaN
    when the Hessian is not positive definite. `converged`: the optimiser reports success, the
    log-likelihood is finite, no parameter sits on its bound and the Hessian is positive definite.
    """

    def negative(log_params: np.ndarray) -> float:
        value = log_likelihood(np.exp(log_params))
        return -value if np.isfinite(value) else 1e300

    start = np.log(np.asarray(initial, dtype=float))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    result = minimize(
        negative,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8, "maxls": 50},
    )
    log_params = result.x
    estimates = np.exp(log_params)
    value = log_likelihood(estimates)
    hessian = numerical_hessian(negative, log_params)
    try:
        covariance = np.linalg.inv(hessian)
        variances = np.diag(covariance)
        positive_definite = bool(np.all(np.linalg.eigvalsh((hessian + hessian.T) / 2) > 0))
    except np.linalg.LinAlgError:
        variances = np.full(len(names), np.nan)
        positive_definite = False
    standard_errors = np.where(variances > 0, estimates * np.sqrt(np.abs(variances)), np.nan)
    on_bound = bool(np.any(np.abs(log_params) >= LOG_BOUND - 1e-6))
    converged = bool(result.success) and bool(np.isfinite(value)) and not on_bound and positive_definite
    return FitResult(
        names=names,
        estimates=tuple(float(v) for v in estimates),
        standard_errors=tuple(float(v) for v in standard_errors),
        log_likelihood=float(value),
        customers=int(customers),
        converged=converged,
        iterations=int(result.nit),
        message=str(result.message),
    )
