"""Marketing spend per month and paid acquisition channel, and the SELECT that writes it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

from flows.sample_data.customers import Customers
from flows.sample_data.draws import rng_stream
from flows.sample_data.params import (
    ACQUISITION_CHANNELS,
    CAC_DRIFT_PER_YEAR,
    CAC_EUR,
    PAID_CHANNELS,
    SPEND_BASE_CUSTOMERS,
    SPEND_NOISE_SIGMA,
)


def marketing_spend(cust: Customers, start: date, end: date, seed: int) -> pa.Table:
    """Spend per month and paid channel: acquired customers x CAC (drifting up) x noise."""
    rng = rng_stream(seed, 5)
    first_month = start.year * 12 + start.month - 1
    months = np.arange(first_month, end.year * 12 + end.month)
    created_month = cust.created.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) + 1970 * 12
    paid = np.array([ACQUISITION_CHANNELS.index(c) for c in PAID_CHANNELS])
    lookup = np.full(len(ACQUISITION_CHANNELS) + 1, -1)
    lookup[paid] = np.arange(len(paid))
    channel = lookup[cust.channel]  # -1 (empty channel) maps to the last entry: -1
    counted = channel >= 0
    counts = np.zeros((len(months), len(paid)))
    np.add.at(counts, (created_month[counted] - first_month, channel[counted]), 1)
    years = (months - first_month)[:, None] / 12
    noise = rng.lognormal(-(SPEND_NOISE_SIGMA**2) / 2, SPEND_NOISE_SIGMA, counts.shape)
    amount = np.round((counts + SPEND_BASE_CUSTOMERS) * CAC_EUR[None, :] * CAC_DRIFT_PER_YEAR**years * noise, 2)
    month_text = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]  # one per month
    return pa.table(
        {
            "month": pa.array(np.repeat(month_text, len(paid)).tolist()),
            "channel": pa.array(np.tile(PAID_CHANNELS, len(months)).tolist()),
            "amount": pa.array(amount.ravel()),
            "currency": pa.array(["EUR"] * amount.size),
        }
    )


#: The SELECT over `marketing_spend` that writes the marketing spend export.
SPEND_SQL = """
    SELECT month, channel, CAST(CAST(amount AS DECIMAL(14, 2)) AS VARCHAR) AS amount, currency
    FROM frame"""
