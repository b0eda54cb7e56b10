"""Random draws shared by the parts of the model.

Each part draws from its own generator, `rng_stream(seed, stream)`, so that a change in one part
does not shift the draws of another. Streams in use: 1 customers, 2 orders, 3 contacts, 4 surveys,
5 marketing spend, 6 names and e-mails, 7 order currency and timestamp style, 8 survey comments,
9 relationship ends, 10 referrers. Within a stream the order of the draws is part of the output.
"""

from __future__ import annotations

import numpy as np


def rng_stream(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per model part, so that parts do not shift each other's draws."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def choice_by_group(rng: np.random.Generator, groups: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the probability row `probs[groups[i]]` (inverse CDF)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(groups))
    out = np.zeros(len(groups), dtype=np.int8)
    for k in range(probs.shape[1] - 1):  # loop over categories, not rows
        out += u >= cum[groups, k]
    return out


def time_of_day(rng: np.random.Generator, n: int, hour_weights: np.ndarray) -> np.ndarray:
    """Seconds after midnight, with the hour drawn from `hour_weights`."""
    hours = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)
