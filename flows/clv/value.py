"""Discounted customer lifetime value over a horizon from a fitted BG/NBD and Gamma-Gamma model."""

from __future__ import annotations

import numpy as np

from flows.clv import bgnbd

#: days in a month (a year of 365.25 days / 12): months of the horizon in the model's time unit
DAYS_PER_MONTH = 365.25 / 12


def months_to_time_units(months, time_unit_days: float) -> np.ndarray:
    """m months in the model's time unit (m x 365.25 / 12 / time_unit_days)."""
    return np.asarray(months, dtype=float) * DAYS_PER_MONTH / time_unit_days


def monthly_discount_factors(horizon_months: int, annual_discount_rate: float) -> np.ndarray:
    """1 / (1 + d)^(m / 12) for months m = 1 ... horizon: each month's purchases discounted from its end."""
    months = np.arange(1, horizon_months + 1, dtype=float)
    return (1.0 + annual_discount_rate) ** (-months / 12.0)


def discounted_expected_purchases(
    params, x, t_x, T, time_unit_days: float, horizon_months: int, annual_discount_rate: float
) -> np.ndarray:
    """sum over m = 1 ... horizon of (E[Y(m months)] - E[Y(m - 1 months)]) / (1 + d)^(m / 12): the
    expected purchases of each month of the horizon, discounted from the month's end."""
    x = np.asarray(x, dtype=float)
    factors = monthly_discount_factors(horizon_months, annual_discount_rate)
    horizons = months_to_time_units(np.arange(1, horizon_months + 1), time_unit_days)
    total = np.zeros(x.shape)
    previous = np.zeros(x.shape)
    # a loop over the months of the horizon, not over customers
    for factor, current in zip(factors, bgnbd.expected_purchases_over(params, horizons, x, t_x, T)):
        total += (current - previous) * factor
        previous = current
    return total
