"""Maximum likelihood on log-parameters: L-BFGS-B, standard errors from the inverse Hessian."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
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


def unique_rows(*columns) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The distinct rows of the given columns (sorted), each row's position among them and how
    often each occurs: a hash group-by (pandas), much faster than sorting rows at a million rows."""
    frame = pd.DataFrame({i: np.asarray(c, dtype=float) for i, c in enumerate(columns)})
    if frame.empty:
        return [np.empty(0) for _ in columns], np.empty(0, dtype=np.int64), np.empty(0)
    groups = frame.groupby(list(frame.columns), sort=True)
    inverse = groups.ngroup().to_numpy()
    sizes = groups.size()
    keys = sizes.index.to_frame(index=False)
    return [keys[i].to_numpy(dtype=float) for i in frame.columns], inverse, sizes.to_numpy(dtype=float)


def aggregate_rows(*columns) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct rows of the given columns and how often each occurs (the likelihood of identical
    customers is computed once and weighted)."""
    unique, _, counts = unique_rows(*columns)
    return unique, counts


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


def jacobian_hessian(gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Hessian as the central finite-difference Jacobian of an analytic gradient, symmetrised."""
    n = len(point)
    hessian = np.empty((n, n))
    steps = step * np.maximum(1.0, np.abs(point))
    for i in range(n):
        e = np.zeros(n)
        e[i] = steps[i]
        hessian[:, i] = (gradient(point + e) - gradient(point - e)) / (2 * steps[i])
    return (hessian + hessian.T) / 2


def maximise(
    names: tuple[str, ...],
    log_likelihood: Callable[[np.ndarray], float],
    initial: np.ndarray,
    customers: int,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> FitResult:
    """Maximise `log_likelihood(natural parameters)` over log-parameters with L-BFGS-B, with the
    analytic `gradient` (d log-likelihood / d natural parameters) when given.

    Standard errors: the inverse of the Hessian of the negative log-likelihood in log-parameters,
    mapped to the natural parameters by the delta method (se(theta) = theta x se(log theta)); NaN
    when the Hessian is not positive definite. `converged`: the optimiser reports success, the
    log-likelihood is finite, no parameter sits on its bound and the Hessian is positive definite.
    """

    def negative(log_params: np.ndarray) -> float:
        value = log_likelihood(np.exp(log_params))
        return -value if np.isfinite(value) else 1e300

    def negative_gradient(log_params: np.ndarray) -> np.ndarray:
        params = np.exp(log_params)
        return -gradient(params) * params  # chain rule: d/d log theta = theta d/d theta

    start = np.log(np.asarray(initial, dtype=float))
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(names)
    result = minimize(
        negative,
        start,
        jac=negative_gradient if gradient is not None else None,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-8, "maxls": 50},
    )
    log_params = result.x
    estimates = np.exp(log_params)
    value = log_likelihood(estimates)
    if gradient is not None:
        hessian = jacobian_hessian(negative_gradient, log_params)
    else:
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
