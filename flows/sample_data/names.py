"""Names for the CRM records: pools drawn once per seed from seeded Faker instances, per locale."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pyarrow as pa

from flows.sample_data.params import LOCALES, NAME_POOL_SIZE


def _ascii_slug(text: str) -> str:
    """Lower-case ASCII letters only, for e-mail local parts (Ł->l, ø->o, ß->ss, ...)."""
    text = text.lower().translate(str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "ß": "ss", "đ": "d", "þ": "th"}))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in text if ch.isalpha())


def _name_order(last_name: str) -> str:
    """Faker's nl_NL writes some names as "Werl-Arnsberg, van": put the particle in front."""
    if ", " in last_name:
        name, particle = last_name.split(", ", 1)
        return f"{particle} {name}"
    return last_name


@lru_cache(maxsize=8)
def name_pools(seed: int) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """First names, last names and their ASCII slugs: NAME_POOL_SIZE per locale, in LOCALES order.

    Drawn once from seeded Faker instances (duplicates kept, so Faker's name
    frequencies carry over); customers then pick from their locale's block by index.
    """
    from faker import Faker  # imported here: only needed once per seed

    first: list[str] = []
    last: list[str] = []
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed * 101 + i)
        first += [fake.first_name() for _ in range(NAME_POOL_SIZE)]
        last += [_name_order(fake.last_name()) for _ in range(NAME_POOL_SIZE)]
    return (
        pa.array(first),
        pa.array(last),
        pa.array([_ascii_slug(x) or "x" for x in first]),
        pa.array([_ascii_slug(x) or "x" for x in last]),
    )
