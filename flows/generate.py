"""Synthetic raw exports for the customer-value warehouse.

`generate_exports()` writes CRM, order, service-contact, marketing-spend and survey
exports that follow the data contract in `flows.contract`, with a story underneath
that the marts can recover. Everything is vectorised numpy (no loop per customer or
per row) and fully determined by `seed` and the arguments: the same call writes
byte-identical files.

The model of the data
---------------------
Customers
    CRM records are created from `start` to `end`, with yearly growth, seasonality
    (peaks in November/December, a dip in summer) and a little weekday pattern.
    Each customer gets a country (mostly NL), an acquisition channel (a few empty;
    the paid-social share grows over time) and a latent *satisfaction* ``s ~ N(0, 1)``
    (referral customers a little happier, paid-social ones a little less). Names
    come from pools drawn once from seeded Faker instances per locale and are
    combined by index; e-mail addresses are derived from name + customer number on
    the reserved ``example.*`` domains. About 12 % are prospects who never order.

Orders (BG/NBD story)
    An ordering customer places a first order on or soon after the CRM record is
    created. After every order the customer stays "alive" with probability
    ``1 - p`` (``p ~ Beta``, raised for less satisfied customers, lowered for
    referrals) and while alive buys at a rate ``lambda ~ Gamma`` (orders per year).
    The number of orders before dropout is therefore geometric and the gaps are
    exponential; both are drawn for all customers at once (np.repeat + cumsum).
    Orders after `end` are not observed. Spend per order is a per-customer gamma
    mean times a lognormal factor. A price-shopper segment (15 %) buys mostly on
    discount. ~4 % of orders are cancelled and ~3 % refunded (more for unhappy
    customers). Customers in GB/SE/DK/PL/CH partly pay in their own currency (a
    few in USD); the amount is then in that currency.

Service contacts
    About 0.3 contacts per order (more after refunds and cancellations, more for
    unhappy customers), a few before the first order for prospects. Contacts are
    transferred 0-4 times (more by phone and for complaints/billing); the more
    transfers, the less often a contact is resolved.

Satisfaction drives answers *and* behaviour
    A survey answer is ``s + experience + noise``, mapped to NPS 0-10, CSAT 1-5 and
    CES 1-7 (7 = very easy). Experience is negative after a refund, an unresolved
    contact or transfers. The same ``s`` raises the dropout probability, and a bad
    contact (unresolved or >= 2 transfers) or a refund ends the relationship after
    that order with some extra probability. Answers therefore predict later
    repurchase, loosely: noise is large, satisfied customers still leave and some
    unhappy ones stay.

Surveys
    Order surveys (NPS + CSAT, sometimes CES) go out after completed/refunded
    orders, contact surveys (CES, CSAT, NPS) after contacts, and once a year a
    relationship NPS goes to a sample of customers active in the past year. About a
    quarter of invitations is answered (per-customer propensity), within ~7 days;
    a few answers leave a score empty; comments are short and mostly empty.

Marketing spend
    Per month and paid acquisition channel: customers acquired x a channel CAC that
    drifts up a little each year, with lognormal noise, in EUR.

Timestamps are local wall-clock time in Europe/Amsterdam without an offset, except
about 5 % of orders which carry an ISO 8601 offset (``+00:00`` or ``Z`` in UTC, or
the local ``+01:00``/``+02:00``) for the same instant.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["generate_exports", "EXPORT_COLUMNS", "ACQUISITION_CHANNELS", "PAID_CHANNELS"]

# --------------------------------------------------------------------------- contract

EXPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "customer_id", "created_at", "email", "full_name", "country",
        "acquisition_channel", "referred_by_customer_id",
    ),
    "orders": ("order_id", "customer_id", "ordered_at", "status", "amount", "discount_amount", "currency", "channel"),
    "contacts": ("contact_id", "customer_id", "contacted_at", "channel", "reason", "transfers", "resolved"),
    "marketing_spend": ("month", "channel", "amount", "currency"),
    "survey_responses": (
        "response_id", "customer_id", "responded_at", "touchpoint_type", "touchpoint_id",
        "nps", "ces", "csat", "comment",
    ),
}

ACQUISITION_CHANNELS = ("paid_search", "paid_social", "affiliate", "email", "organic", "referral", "retail_store")
PAID_CHANNELS = ("paid_search", "paid_social", "affiliate", "email", "retail_store")
ORDER_CHANNELS = ("web", "app", "store", "phone")
ORDER_STATUSES = ("completed", "cancelled", "refunded")
CONTACT_CHANNELS = ("phone", "email", "chat", "store")
CONTACT_REASONS = ("delivery", "return", "billing", "product_question", "complaint")
TOUCHPOINT_TYPES = ("order", "contact", "periodic")
COUNTRIES = ("NL", "BE", "DE", "FR", "GB", "SE", "DK", "PL", "CH")

# --------------------------------------------------------------------------- model parameters

DAY = 86_400
YEAR_DAYS = 365.25

# Acquisition: yearly growth factor, month seasonality (Jan..Dec), weekday (Mon..Sun).
GROWTH_PER_YEAR = 1.35
MONTH_SEASON = np.array([0.95, 0.85, 0.95, 0.95, 0.90, 0.78, 0.68, 0.72, 0.95, 1.05, 1.45, 1.55])
WEEKDAY_WEIGHT = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.95, 1.05])
# Hour-of-day weights, 0..23: online (evening peak) and store/service hours.
ONLINE_HOURS = np.array([2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 6, 7, 9, 10, 9, 6, 3], float)
STORE_HOURS = np.array([0] * 9 + [4, 6, 7, 7, 7, 7, 7, 7, 5, 2] + [0] * 5, float)
SERVICE_HOURS = np.array([0] * 8 + [6, 8, 8, 7, 6, 7, 7, 6, 6, 5, 4, 3, 2] + [0] * 3, float)

# Acquisition channel mix (order of ACQUISITION_CHANNELS) and its yearly log-trend.
CHANNEL_MIX = np.array([0.22, 0.13, 0.08, 0.07, 0.24, 0.09, 0.14])
CHANNEL_TREND = np.array([0.0, 0.12, 0.02, -0.05, -0.03, 0.04, -0.06])
CHANNEL_EMPTY_SHARE = 0.025
# Per channel: satisfaction shift, buy probability, rate multiplier, dropout multiplier.
CHANNEL_SATISFACTION = np.array([0.0, -0.15, -0.05, 0.05, 0.1, 0.3, 0.1, 0.0])  # last = empty channel
CHANNEL_BUY_PROB = np.array([0.875, 0.82, 0.875, 0.885, 0.885, 0.915, 0.985, 0.875])
CHANNEL_RATE = np.array([1.0, 0.85, 0.95, 1.05, 1.05, 1.1, 1.0, 1.0])
CHANNEL_DROPOUT = np.array([1.0, 1.25, 1.1, 0.95, 0.9, 0.8, 0.9, 1.0])
REFERRAL = ACQUISITION_CHANNELS.index("referral")
RETAIL_STORE = ACQUISITION_CHANNELS.index("retail_store")
ORGANIC = ACQUISITION_CHANNELS.index("organic")

# Countries (order of COUNTRIES): online customers and store customers (stores in NL/BE only).
COUNTRY_MIX_ONLINE = np.array([0.56, 0.12, 0.09, 0.05, 0.05, 0.035, 0.035, 0.035, 0.035])
COUNTRY_MIX_STORE = np.array([0.85, 0.15, 0, 0, 0, 0, 0, 0, 0])
LOCALES = ("nl_NL", "de_DE", "fr_FR", "en_GB", "sv_SE", "da_DK", "pl_PL")
COUNTRY_LOCALE = np.array([0, 0, 1, 2, 3, 4, 5, 6, 1])  # NL, BE->nl_NL; CH->de_DE
NAME_POOL_SIZE = 2_000
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example")
EMAIL_MISSING = 0.02
EMAIL_MISSING_STORE = 0.25

# Currencies: own currency of the non-euro countries, approximate EUR per unit.
COUNTRY_CURRENCY = {"GB": "GBP", "SE": "SEK", "DK": "DKK", "PL": "PLN", "CH": "CHF"}
CURRENCIES = ("EUR", "GBP", "SEK", "DKK", "PLN", "CHF", "USD")
EUR_PER_UNIT = np.array([1.0, 1.16, 0.088, 0.134, 0.228, 1.04, 0.90])
LOCAL_CURRENCY_PAYERS = 0.40  # share of customers in non-euro countries paying in their currency
LOCAL_CURRENCY_ORDERS = 0.85  # share of their orders in that currency ...
USD_ORDERS = 0.05  # ... and in USD
EXPLICIT_EUR = 0.20  # share of euro orders with "EUR" written out instead of empty

# Purchasing (rates per year; dropout after each order).
BUY_DELAY_SAME_SESSION = 0.55
BUY_DELAY_MEAN_DAYS = 21.0
RATE_SHAPE, RATE_MEAN = 1.5, 11.5
DROPOUT_A, DROPOUT_B = 1.3, 20.0
DROPOUT_SATISFACTION = 0.45  # p *= exp(-0.45 s)
SPEND_SHAPE, SPEND_MEAN = 3.0, 62.0
SPEND_SIGMA = 0.5
PRICE_SHOPPERS = 0.15
DISCOUNT_PROB_SHOPPER, DISCOUNT_PROB_OTHER = 0.70, 0.10
DISCOUNT_RATES = np.array([0.10, 0.15, 0.20, 0.25, 0.30, 0.40])
DISCOUNT_RATE_WEIGHTS = np.array([0.30, 0.20, 0.25, 0.12, 0.09, 0.04])
CANCEL_PROB = 0.04
REFUND_PROB = 0.03  # times exp(-0.6 s): mean ~3 %, more for unhappy customers
PREFERRED_ORDER_CHANNEL = 0.75
ORDER_CHANNEL_MIX = np.array([  # by acquisition channel (+ empty): web, app, store, phone
    [0.62, 0.27, 0.06, 0.05], [0.45, 0.48, 0.04, 0.03], [0.70, 0.22, 0.04, 0.04], [0.62, 0.28, 0.05, 0.05],
    [0.58, 0.27, 0.10, 0.05], [0.55, 0.30, 0.10, 0.05], [0.25, 0.10, 0.62, 0.03], [0.60, 0.25, 0.10, 0.05],
])
OFFSET_SHARE = 0.05
OFFSET_STYLES = np.array([0.45, 0.30, 0.25])  # +00:00, Z, local offset

# Service contacts.
CONTACT_RATE = 0.26  # per completed order, times exp(-0.25 s)
CONTACT_RATE_EXTRA = np.array([0.0, 0.45, 1.1])  # by status: completed, cancelled, refunded
PROSPECT_CONTACTS = 0.06
CONTACT_REASON_MIX = np.array([  # by status: delivery, return, billing, product_question, complaint
    [0.40, 0.15, 0.12, 0.25, 0.08], [0.25, 0.0, 0.45, 0.05, 0.25], [0.05, 0.60, 0.20, 0.02, 0.13],
])
REASON_GAP_MIN = np.array([1.0, 3.0, 2.0, 0.0, 1.0])  # days after the order
REASON_GAP_MEAN = np.array([2.5, 7.0, 9.0, 2.0, 6.0])
REASON_EMPTY = 0.02
CONTACT_CHANNEL_MIX = np.array([  # by order channel: phone, email, chat, store
    [0.33, 0.30, 0.32, 0.05], [0.28, 0.25, 0.44, 0.03], [0.22, 0.13, 0.10, 0.55], [0.70, 0.20, 0.08, 0.02],
])
TRANSFER_RATE = 0.32
TRANSFER_CHANNEL = np.array([1.45, 0.9, 0.75, 0.55])
TRANSFER_REASON = np.array([0.9, 0.9, 1.4, 0.7, 1.6])
MAX_TRANSFERS = 4
# Ending the relationship after a bad experience on an order.
CUT_AFTER_BAD_CONTACT = 0.30
CUT_AFTER_REFUND = 0.15

# Surveys.
RESPONSE_A, RESPONSE_B = 2.0, 6.0  # per-customer response propensity ~ Beta: mean 25 %
RESPONSE_MAX_DAYS = 7.0
ANSWER_NOISE = 0.9  # noise of the touchpoint experience, shared by its scores
SCORE_NOISE = 0.45  # extra noise per score
EMPTY_SCORE = 0.03
ORDER_CES_SHARE = 0.30
EXPERIENCE_REFUND, EXPERIENCE_CANCEL = -1.3, -0.4
EXPERIENCE_UNRESOLVED, EXPERIENCE_PER_TRANSFER = -1.1, -0.35
PERIODIC_MONTH, PERIODIC_DAY, PERIODIC_SPREAD_DAYS = 9, 15, 14
PERIODIC_SAMPLE = 0.35
PERIODIC_RESPONSE = 0.8  # times the customer's propensity
COMMENT_PROB = np.array([0.30, 0.12, 0.15])  # by sentiment: negative, neutral, positive
COMMENTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "nl": (
        ("Ik werd steeds doorverbonden", "Nog steeds geen oplossing", "Pakket kwam te laat", "Slechte service",
         "Terugbetaling duurt te lang", "Product kwam kapot aan", "Niemand belt terug", "Te duur voor de kwaliteit"),
        ("Prima", "Was oké", "Levering duurde wat lang", "Redelijk", "Niets bijzonders", "Kan beter"),
        ("Snel geleverd, top!", "Heel tevreden", "Prima service", "Alles perfect verlopen",
         "Vriendelijke medewerker", "Goede kwaliteit", "Super geholpen", "Kom zeker terug"),
    ),
    "en": (
        ("Kept being transferred", "Still not resolved", "Parcel arrived late", "Poor service",
         "Refund takes too long", "Item arrived damaged", "Nobody called back", "Too expensive for the quality"),
        ("Fine", "It was ok", "Delivery took a while", "Average", "Nothing special", "Could be better"),
        ("Fast delivery, great!", "Very happy", "Great service", "Everything went smoothly",
         "Friendly staff", "Good quality", "Really helpful", "Will order again"),
    ),
}

# Marketing: CAC in EUR per acquired customer (order of PAID_CHANNELS), yearly drift, noise.
CAC_EUR = np.array([38.0, 52.0, 27.0, 21.0, 64.0])
CAC_DRIFT_PER_YEAR = 1.05
SPEND_NOISE_SIGMA = 0.15
SPEND_BASE_CUSTOMERS = 0.5  # spend of a month without acquisitions, in customers' worth of CAC

TS_FORMAT = "%Y-%m-%d %H:%M:%S"


# --------------------------------------------------------------------------- helpers


def _rng(seed: int, stream: int) -> np.random.Generator:
    """An independent generator per model part, so that parts do not shift each other's draws."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def _epoch(d: date) -> int:
    """Seconds since 1970-01-01 of midnight at `d` (naive local time)."""
    return (d - date(1970, 1, 1)).days * DAY


def _choice_by_group(rng: np.random.Generator, groups: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One category per row, drawn from the probability row `probs[groups[i]]` (inverse CDF)."""
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(groups))
    out = np.zeros(len(groups), dtype=np.int8)
    for k in range(probs.shape[1] - 1):  # loop over categories, not rows
        out += u >= cum[groups, k]
    return out


def _time_of_day(rng: np.random.Generator, n: int, hour_weights: np.ndarray) -> np.ndarray:
    """Seconds after midnight, with the hour drawn from `hour_weights`."""
    hours = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Row index where each run of equal (sorted) keys starts."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _scores(u: np.ndarray, rng: np.random.Generator, centre: float, scale: float, lo: int, hi: int) -> np.ndarray:
    """Map a latent answer to an integer scale with a little score-specific noise."""
    raw = centre + scale * (u + rng.normal(0.0, SCORE_NOISE, len(u)))
    return np.clip(np.rint(raw), lo, hi).astype(np.int64)


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
def _name_pools(seed: int) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
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
        pa.array(first), pa.array(last),
        pa.array([_ascii_slug(x) or "x" for x in first]), pa.array([_ascii_slug(x) or "x" for x in last]),
    )


def _decode(values: tuple[str, ...] | list[str], codes: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Codes -> strings as an Arrow array; rows where `valid` is False (or code < 0) are null."""
    mask = codes < 0 if valid is None else (~valid) | (codes < 0)
    indices = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    return pa.array(values).take(indices)


def _nullable_int(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int64), mask=~valid)


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64), type=pa.timestamp("s"))


def _summer_time(local_seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: start and end (naive local seconds) of that year's Europe/Amsterdam summer time.

    EU rules: from the last Sunday of March 02:00 (clocks jump to 03:00) to the last
    Sunday of October 03:00 (clocks go back to 02:00).
    """
    if len(local_seconds) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    years = local_seconds.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    years = np.clip(years, 1971, 9998)  # far-off values (never written) need no exact rule
    table_years = range(int(years.min()), int(years.max()) + 1)  # one entry per year, not per row

    def last_sunday(month: int) -> np.ndarray:
        days = [date(y, month, 31) for y in table_years]
        return np.array([_epoch(d - timedelta(days=(d.weekday() + 1) % 7)) for d in days], dtype=np.int64)

    i = years - table_years[0]
    return (last_sunday(3) + 2 * 3600)[i], (last_sunday(10) + 3 * 3600)[i]


def _skip_dst_gap(local_seconds: np.ndarray) -> np.ndarray:
    """Move times in the hour skipped in spring (02:00-03:00 does not exist) one hour on."""
    summer_from, _ = _summer_time(local_seconds)
    in_gap = (local_seconds >= summer_from) & (local_seconds < summer_from + 3600)
    return local_seconds + np.where(in_gap, 3600, 0)


def _utc_offset_hours(local_seconds: np.ndarray) -> np.ndarray:
    """UTC offset of Europe/Amsterdam (1 or 2) for naive local times.

    In the repeated October hour the first (summer-time) reading is used.
    """
    summer_from, summer_to = _summer_time(local_seconds)
    return np.where((local_seconds >= summer_from) & (local_seconds < summer_to), 2, 1)


def _log(progress: bool, started: float, message: str) -> None:
    if progress:
        from rich.console import Console

        Console(stderr=True).log(f"[{time.perf_counter() - started:7.1f}s] {message}")


# --------------------------------------------------------------------------- customers


@dataclass
class _Customers:
    created: np.ndarray  # seconds, sorted; the index is the customer number - 1
    channel: np.ndarray  # code into ACQUISITION_CHANNELS, -1 = empty
    country: np.ndarray  # code into COUNTRIES
    satisfaction: np.ndarray
    buyer: np.ndarray
    rate: np.ndarray  # orders per day while alive
    dropout: np.ndarray  # probability to drop out after each order
    spend: np.ndarray  # mean gross order value, EUR
    price_shopper: np.ndarray
    response: np.ndarray  # probability to answer a survey
    order_channel: np.ndarray  # preferred code into ORDER_CHANNELS
    currency: np.ndarray  # code into CURRENCIES of the customer's own currency, 0 = EUR
    referrer: np.ndarray  # customer index, -1 = none

    @property
    def n(self) -> int:
        return len(self.created)


def _acquisition_days(n: int, start: date, end: date, rng: np.random.Generator) -> np.ndarray:
    """Day offsets since `start`, weighted by growth, month seasonality and weekday."""
    days = np.arange((end - start).days + 1)
    dates = np.datetime64(start, "D") + days
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    weight = GROWTH_PER_YEAR ** (days / YEAR_DAYS) * MONTH_SEASON[month] * WEEKDAY_WEIGHT[weekday]
    return rng.choice(days, size=n, p=weight / weight.sum())


def _acquisition_channels(years: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Channel per customer, the mix drifting with `years` since start; a few empty (-1)."""
    weight = CHANNEL_MIX[None, :] * np.exp(CHANNEL_TREND[None, :] * years[:, None])
    cum = np.cumsum(weight / weight.sum(axis=1, keepdims=True), axis=1)
    channel = (rng.random(len(years))[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)
    channel[rng.random(len(years)) < CHANNEL_EMPTY_SHARE] = -1
    return channel


def _make_customers(n: int, start: date, end: date, seed: int) -> _Customers:
    rng = _rng(seed, 1)
    day = _acquisition_days(n, start, end, rng)
    channel = _acquisition_channels(day / YEAR_DAYS, rng)
    store = channel == RETAIL_STORE
    tod = np.where(store, _time_of_day(rng, n, STORE_HOURS), _time_of_day(rng, n, ONLINE_HOURS))
    created = _skip_dst_gap(_epoch(start) + day.astype(np.int64) * DAY + tod)
    order = np.argsort(created, kind="stable")
    created, channel, store = created[order], channel[order], store[order]

    group = np.where(channel < 0, len(ACQUISITION_CHANNELS), channel)  # row in the per-channel tables
    country = _choice_by_group(rng, store.astype(np.int64), np.vstack([COUNTRY_MIX_ONLINE, COUNTRY_MIX_STORE]))
    satisfaction = rng.normal(0.0, 1.0, n) + CHANNEL_SATISFACTION[group]
    buyer = rng.random(n) < CHANNEL_BUY_PROB[group]
    price_shopper = rng.random(n) < PRICE_SHOPPERS
    rate = rng.gamma(RATE_SHAPE, RATE_MEAN / RATE_SHAPE, n) * CHANNEL_RATE[group] * np.where(price_shopper, 1.1, 1.0)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, n) * CHANNEL_DROPOUT[group] * np.exp(-DROPOUT_SATISFACTION * satisfaction)
    spend = rng.gamma(SPEND_SHAPE, SPEND_MEAN / SPEND_SHAPE, n) * np.where(price_shopper, 0.85, 1.0)
    response = rng.beta(RESPONSE_A, RESPONSE_B, n)
    order_channel = _choice_by_group(rng, group, ORDER_CHANNEL_MIX)

    own_currency = np.zeros(len(COUNTRIES), dtype=np.int8)
    for code, cur in COUNTRY_CURRENCY.items():
        own_currency[COUNTRIES.index(code)] = CURRENCIES.index(cur)
    currency = np.where(rng.random(n) < LOCAL_CURRENCY_PAYERS, own_currency[country], 0).astype(np.int8)

    return _Customers(
        created=created, channel=channel, country=country, satisfaction=satisfaction, buyer=buyer,
        rate=rate / YEAR_DAYS, dropout=np.clip(dropout, 0.002, 0.95), spend=spend, price_shopper=price_shopper,
        response=response, order_channel=order_channel, currency=currency,
        referrer=np.full(n, -1, dtype=np.int64),
    )


def _assign_referrers(cust: _Customers, first_order: np.ndarray, rng: np.random.Generator) -> None:
    """Referral customers get a referrer who placed an order before they were created.

    Referrers are drawn with weight exp(1.2 s): happier customers (promoters) refer
    more. Referral customers without any possible referrer become organic.
    """
    has_ordered = first_order < np.iinfo(np.int64).max
    candidates = np.flatnonzero(has_ordered)
    candidates = candidates[np.argsort(first_order[candidates], kind="stable")]
    cum_weight = np.cumsum(np.exp(1.2 * cust.satisfaction[candidates]))
    referred = np.flatnonzero(cust.channel == REFERRAL)
    eligible = np.searchsorted(first_order[candidates], cust.created[referred], side="left")
    ok = eligible > 0
    cust.channel[referred[~ok]] = ORGANIC
    referred, eligible = referred[ok], eligible[ok]
    draw = rng.random(len(referred)) * cum_weight[eligible - 1]
    pick = np.minimum(np.searchsorted(cum_weight, draw, side="right"), eligible - 1)
    cust.referrer[referred] = candidates[pick]


# --------------------------------------------------------------------------- orders


@dataclass
class _Orders:
    customer: np.ndarray  # generated sorted by customer, then time; `_settle` puts them in time order
    at: np.ndarray  # seconds
    status: np.ndarray  # code into ORDER_STATUSES
    channel: np.ndarray  # code into ORDER_CHANNELS
    gross_eur: np.ndarray
    discount_rate: np.ndarray

    def take(self, rows: np.ndarray) -> "_Orders":
        return _Orders(**{k: v[rows] for k, v in self.__dict__.items()})

    @property
    def n(self) -> int:
        return len(self.at)


def _purchase_times(cust: _Customers, end_excl: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer, seconds) of every order before `end_excl`, sorted by customer then time.

    The number of orders until dropout is geometric(p); gaps are exponential(rate).
    The count is capped well above what fits before `end`, to bound memory.
    """
    n = cust.n
    same_session = rng.random(n) < np.where(cust.channel == RETAIL_STORE, 0.97, BUY_DELAY_SAME_SESSION)
    delay = np.where(
        same_session,
        rng.integers(120, 3600, n),
        (rng.exponential(BUY_DELAY_MEAN_DAYS, n) * DAY).astype(np.int64),
    )
    first = cust.created + delay
    buyers = np.flatnonzero(cust.buyer & (first < end_excl))
    horizon = (end_excl - first[buyers]) / DAY
    expected = cust.rate[buyers] * horizon
    cap = np.ceil(expected + 4 * np.sqrt(expected) + 5).astype(np.int64)
    count = np.minimum(rng.geometric(cust.dropout[buyers]), cap)

    customer = np.repeat(buyers, count)
    gaps = rng.standard_exponential(len(customer)) / cust.rate[customer] * DAY
    starts = np.cumsum(count) - count
    gaps[starts] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[starts], count)
    at = first[customer] + elapsed.astype(np.int64)
    # Repeat orders land at a plausible hour of their day, never before the first order.
    later = elapsed > 0
    day_start = at - at % DAY
    hour = np.where(cust.order_channel[customer] == ORDER_CHANNELS.index("store"),
                    _time_of_day(rng, len(at), STORE_HOURS), _time_of_day(rng, len(at), ONLINE_HOURS))
    at = np.where(later, np.maximum(day_start + hour, first[customer]), at)
    keep = at < end_excl
    customer, at = customer[keep], _skip_dst_gap(at[keep])
    order = np.lexsort((at, customer))
    return customer[order], at[order]


def _make_orders(cust: _Customers, end_excl: int, seed: int) -> _Orders:
    rng = _rng(seed, 2)
    customer, at = _purchase_times(cust, end_excl, rng)
    n = len(at)
    s = cust.satisfaction[customer]
    u = rng.random(n)
    refund_prob = REFUND_PROB * np.exp(-0.6 * s)
    status = np.where(u < CANCEL_PROB, 1, np.where(u < CANCEL_PROB + refund_prob, 2, 0)).astype(np.int8)
    channel = np.where(
        rng.random(n) < PREFERRED_ORDER_CHANNEL,
        cust.order_channel[customer],
        _choice_by_group(rng, np.zeros(n, dtype=np.int64), ORDER_CHANNEL_MIX[-1:]),
    ).astype(np.int8)
    gross = np.maximum(cust.spend[customer] * rng.lognormal(-SPEND_SIGMA**2 / 2, SPEND_SIGMA, n), 3.0)
    discount_prob = np.where(cust.price_shopper[customer], DISCOUNT_PROB_SHOPPER, DISCOUNT_PROB_OTHER)
    discounted = rng.random(n) < discount_prob
    rate_weights = DISCOUNT_RATE_WEIGHTS / DISCOUNT_RATE_WEIGHTS.sum()
    rates = DISCOUNT_RATES[rng.choice(len(DISCOUNT_RATES), size=n, p=rate_weights)]
    return _Orders(customer, at, status, channel, np.round(gross, 2), np.where(discounted, rates, 0.0))


def _end_relationships(
    orders: _Orders, bad_order: np.ndarray, cust: _Customers, rng: np.random.Generator
) -> np.ndarray:
    """Rows of `orders` to keep after some customers leave for good after a bad experience.

    A bad contact about an order, or a refund, ends the relationship after that
    order with a probability that is higher for less satisfied customers.
    """
    s = cust.satisfaction[orders.customer]
    prob = (CUT_AFTER_BAD_CONTACT * bad_order + CUT_AFTER_REFUND * (orders.status == 2)) * np.exp(-0.3 * s)
    cut = (rng.random(orders.n) < np.clip(prob, 0, 0.9)).astype(np.int64)
    before = np.cumsum(cut) - cut  # cuts strictly before each row, over all customers
    starts = _group_starts(orders.customer)
    sizes = np.diff(np.r_[starts, orders.n])
    return np.flatnonzero(before == np.repeat(before[starts], sizes))


# --------------------------------------------------------------------------- contacts


@dataclass
class _Contacts:
    customer: np.ndarray
    order: np.ndarray  # row in orders, -1 for prospect contacts
    at: np.ndarray
    channel: np.ndarray
    reason: np.ndarray  # -1 = empty
    transfers: np.ndarray
    resolved: np.ndarray

    def take(self, rows: np.ndarray) -> "_Contacts":
        return _Contacts(**{k: v[rows] for k, v in self.__dict__.items()})

    @property
    def n(self) -> int:
        return len(self.at)

    @property
    def experience(self) -> np.ndarray:
        return EXPERIENCE_UNRESOLVED * ~self.resolved + EXPERIENCE_PER_TRANSFER * self.transfers

    @property
    def bad(self) -> np.ndarray:
        return ~self.resolved | (self.transfers >= 2)


def _service_time(rng: np.random.Generator, after: np.ndarray, gap_days: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """A moment during service hours on the day `gap_days` after `after`, never before it."""
    day = after + (gap_days * DAY).astype(np.int64)
    at = day - day % DAY + _time_of_day(rng, len(after), hours)
    return _skip_dst_gap(np.where(at > after, at, after + rng.integers(300, 7200, len(after))))


def _make_contacts(cust: _Customers, orders: _Orders, seed: int) -> _Contacts:
    rng = _rng(seed, 3)
    s = cust.satisfaction[orders.customer]
    rate = CONTACT_RATE * np.exp(-0.25 * s) + CONTACT_RATE_EXTRA[orders.status]
    order = np.repeat(np.arange(orders.n), rng.poisson(rate))
    reason = _choice_by_group(rng, orders.status[order], CONTACT_REASON_MIX)
    gap = REASON_GAP_MIN[reason] + rng.standard_exponential(len(order)) * REASON_GAP_MEAN[reason]
    at = _service_time(rng, orders.at[order], gap, SERVICE_HOURS)
    customer = orders.customer[order]

    # A few prospects ask a product question and never order.
    prospects = np.flatnonzero(~cust.buyer)
    asking = prospects[rng.random(len(prospects)) < PROSPECT_CONTACTS]
    p_at = _service_time(rng, cust.created[asking], rng.exponential(10.0, len(asking)), SERVICE_HOURS)
    customer = np.r_[customer, asking]
    order = np.r_[order, np.full(len(asking), -1)]
    at = np.r_[at, p_at]
    reason = np.r_[reason, np.full(len(asking), CONTACT_REASONS.index("product_question"), dtype=np.int8)]

    order_channel = orders.channel[np.maximum(order, 0)] if orders.n else np.zeros(len(order), np.int8)
    order_channel = np.where(order >= 0, order_channel, 0)
    channel = _choice_by_group(rng, order_channel, CONTACT_CHANNEL_MIX)
    n = len(at)
    transfer_rate = TRANSFER_RATE * TRANSFER_CHANNEL[channel] * TRANSFER_REASON[reason]
    transfers = np.minimum(rng.poisson(transfer_rate), MAX_TRANSFERS)
    complaint = reason == CONTACT_REASONS.index("complaint")
    logit = 2.3 - 0.75 * transfers + 0.35 * cust.satisfaction[customer] - 0.6 * complaint
    resolved = rng.random(n) < 1 / (1 + np.exp(-logit))
    reason = np.where(rng.random(n) < REASON_EMPTY, -1, reason).astype(np.int8)
    return _Contacts(customer, order, at, channel, reason, transfers.astype(np.int64), resolved)


def _settle(
    cust: _Customers, orders: _Orders, contacts: _Contacts, end_excl: int, seed: int
) -> tuple[_Orders, _Contacts]:
    """Apply relationship ends, drop what falls after `end`, and put rows in time order.

    The row number is then the id number: order and contact ids follow time.
    """
    bad_order = np.zeros(orders.n, dtype=bool)
    bad_order[contacts.order[(contacts.order >= 0) & contacts.bad]] = True
    kept = _end_relationships(orders, bad_order, cust, _rng(seed, 9))
    by_time = kept[np.lexsort((orders.customer[kept], orders.at[kept]))]
    new_row = np.full(orders.n, -1)
    new_row[by_time] = np.arange(len(by_time))
    orders = orders.take(by_time)

    new_order = np.r_[new_row, -1][contacts.order]  # order -1 (prospect contact) stays -1
    keep = ((contacts.order < 0) | (new_order >= 0)) & (contacts.at < end_excl)
    contacts.order = new_order
    contacts = contacts.take(np.flatnonzero(keep))
    return orders, contacts.take(np.lexsort((contacts.order, contacts.customer, contacts.at)))


# --------------------------------------------------------------------------- surveys


@dataclass
class _Responses:
    customer: np.ndarray
    at: np.ndarray
    touchpoint_type: np.ndarray  # code into TOUCHPOINT_TYPES
    touchpoint: np.ndarray  # final order/contact number (0-based), -1 for periodic
    nps: np.ndarray
    ces: np.ndarray
    csat: np.ndarray
    has_nps: np.ndarray
    has_ces: np.ndarray
    has_csat: np.ndarray
    sentiment: np.ndarray  # 0 negative, 1 neutral, 2 positive

    @property
    def n(self) -> int:
        return len(self.at)


def _answers(
    rng: np.random.Generator,
    cust: _Customers,
    customer: np.ndarray,
    touch_at: np.ndarray,
    experience: np.ndarray,
    touch_type: int,
    touchpoint: np.ndarray,
    ask_ces: np.ndarray,
    ask_csat: bool,
    end_excl: int,
) -> _Responses:
    """Invitations -> responses (by propensity, within ~7 days, before `end`) with scores."""
    propensity = cust.response[customer] * (PERIODIC_RESPONSE if touch_type == 2 else 1.0)
    answered = rng.random(len(customer)) < propensity
    delay = (np.minimum(rng.exponential(1.6, len(customer)) + 0.02, RESPONSE_MAX_DAYS) * DAY).astype(np.int64)
    at = _skip_dst_gap(touch_at + delay)
    keep = answered & (at < end_excl)
    customer, at, experience, touchpoint, ask_ces = (
        customer[keep], at[keep], experience[keep], touchpoint[keep], ask_ces[keep]
    )
    n = len(at)
    u = cust.satisfaction[customer] + experience + rng.normal(0.0, ANSWER_NOISE, n)
    nps = _scores(u, rng, 7.9, 1.7, 0, 10)
    csat = _scores(u, rng, 3.9, 0.85, 1, 5)
    # Effort is about the touchpoint more than about the customer.
    ces = _scores(0.5 * cust.satisfaction[customer] + 1.3 * experience + rng.normal(0, 0.8, n), rng, 5.4, 1.1, 1, 7)
    empty = rng.random((3, n)) < EMPTY_SCORE
    has_ces = ask_ces & ~empty[1]
    has_csat = np.full(n, ask_csat) & ~empty[2]
    has_nps = ~empty[0] | ~(has_ces | has_csat)  # a response keeps at least one score
    sentiment = np.digitize(u, [-0.9, 0.5]).astype(np.int8)
    return _Responses(
        customer, at, np.full(n, touch_type, dtype=np.int8), touchpoint, nps, ces, csat,
        has_nps, has_ces, has_csat, sentiment,
    )


def _periodic_invites(
    cust: _Customers, orders: _Orders, contacts: _Contacts, start: date, end: date, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, sent at, recent experience) of the yearly relationship survey.

    Each September a sample of the customers who ordered in the previous 365 days is
    invited; bad contacts in that year weigh on the answer.
    """
    customers, sent, experience = [], [], []
    for year in range(start.year, end.year + 1):  # one wave per year
        wave = _epoch(date(year, PERIODIC_MONTH, PERIODIC_DAY))
        if wave < _epoch(start) or wave >= _epoch(end):
            continue
        recent = (orders.at >= wave - 365 * DAY) & (orders.at < wave)
        active = np.unique(orders.customer[recent])
        invited = active[rng.random(len(active)) < PERIODIC_SAMPLE]
        in_year = (contacts.at >= wave - 365 * DAY) & (contacts.at < wave) & contacts.bad
        bad_count = np.bincount(contacts.customer[in_year], minlength=cust.n)[invited]
        customers.append(invited)
        sent.append(wave + rng.integers(0, PERIODIC_SPREAD_DAYS * DAY, len(invited)))
        experience.append(-0.4 * np.minimum(bad_count, 3))
    if not customers:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(customers), np.concatenate(sent), np.concatenate(experience)


def _make_responses(
    cust: _Customers, orders: _Orders, contacts: _Contacts, start: date, end: date, end_excl: int, seed: int
) -> _Responses:
    rng = _rng(seed, 4)
    surveyed = np.flatnonzero(orders.status != 1)  # no survey after a cancelled order
    order_experience = np.where(orders.status == 2, EXPERIENCE_REFUND, 0.0)[surveyed]
    by_order = _answers(
        rng, cust, orders.customer[surveyed], orders.at[surveyed], order_experience, 0, surveyed,
        rng.random(len(surveyed)) < ORDER_CES_SHARE, True, end_excl,
    )
    by_contact = _answers(
        rng, cust, contacts.customer, contacts.at, contacts.experience, 1, np.arange(contacts.n),
        np.ones(contacts.n, bool), True, end_excl,
    )
    p_customer, p_sent, p_experience = _periodic_invites(cust, orders, contacts, start, end, rng)
    periodic = _answers(
        rng, cust, p_customer, p_sent, p_experience, 2, np.full(len(p_customer), -1),
        np.zeros(len(p_customer), bool), False, end_excl,
    )
    parts = (by_order, by_contact, periodic)
    merged = _Responses(*(np.concatenate([getattr(p, f) for p in parts]) for f in _Responses.__dataclass_fields__))
    order = np.lexsort((merged.touchpoint, merged.touchpoint_type, merged.customer, merged.at))
    return _Responses(*(getattr(merged, f)[order] for f in _Responses.__dataclass_fields__))


# --------------------------------------------------------------------------- marketing spend


def _marketing_spend(cust: _Customers, start: date, end: date, seed: int) -> pa.Table:
    """Spend per month and paid channel: acquired customers x CAC (drifting up) x noise."""
    rng = _rng(seed, 5)
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
    noise = rng.lognormal(-SPEND_NOISE_SIGMA**2 / 2, SPEND_NOISE_SIGMA, counts.shape)
    amount = np.round((counts + SPEND_BASE_CUSTOMERS) * CAC_EUR[None, :] * CAC_DRIFT_PER_YEAR**years * noise, 2)
    month_text = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]  # one per month
    return pa.table({
        "month": pa.array(np.repeat(month_text, len(paid)).tolist()),
        "channel": pa.array(np.tile(PAID_CHANNELS, len(months)).tolist()),
        "amount": pa.array(amount.ravel()),
        "currency": pa.array(["EUR"] * amount.size),
    })


# --------------------------------------------------------------------------- export frames


def _id_sql(column: str, prefix: str, width: int) -> str:
    return f"'{prefix}' || lpad(CAST({column} + 1 AS VARCHAR), {width}, '0')"


def _width(default: int, count: int) -> int:
    return max(default, len(str(count)))


def _customers_frame(cust: _Customers, seed: int) -> pa.Table:
    rng = _rng(seed, 6)
    first, last, first_slug, last_slug = _name_pools(seed)
    block = COUNTRY_LOCALE[cust.country].astype(np.int64) * NAME_POOL_SIZE
    fi = pa.array(block + rng.integers(0, NAME_POOL_SIZE, cust.n))
    li = pa.array(block + rng.integers(0, NAME_POOL_SIZE, cust.n))
    number = pc.cast(pa.array(np.arange(1, cust.n + 1)), pa.string())
    local_part = pc.binary_join_element_wise(first_slug.take(fi), last_slug.take(li), ".")
    domain = _decode(EMAIL_DOMAINS, rng.choice(len(EMAIL_DOMAINS), cust.n, p=[0.4, 0.2, 0.2, 0.1, 0.1]))
    email = pc.binary_join_element_wise(pc.binary_join_element_wise(local_part, number, ""), domain, "@")
    missing = rng.random(cust.n) < np.where(cust.channel == RETAIL_STORE, EMAIL_MISSING_STORE, EMAIL_MISSING)
    return pa.table({
        "id": np.arange(cust.n),
        "ts": _timestamps(cust.created),
        "email": pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), email),
        "full_name": pc.binary_join_element_wise(first.take(fi), last.take(li), " "),
        "country": _decode(COUNTRIES, cust.country),
        "acquisition_channel": _decode(ACQUISITION_CHANNELS, cust.channel),
        "referrer": pa.array(cust.referrer, mask=cust.referrer < 0),
    })


def _customers_sql(n: int) -> str:
    w = _width(7, n)
    return f"""
        SELECT {_id_sql('id', 'C', w)} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS created_at,
               email, full_name, country, acquisition_channel,
               {_id_sql('referrer', 'C', w)} AS referred_by_customer_id
        FROM frame"""


def _orders_frame(orders: _Orders, cust: _Customers, seed: int) -> pa.Table:
    """Order rows in id order (= time order) with amounts, currency and timestamp style."""
    rng = _rng(seed, 7)
    n = orders.n
    own = cust.currency[orders.customer]
    u = rng.random(n)
    usd = CURRENCIES.index("USD")
    foreign = np.where(u < LOCAL_CURRENCY_ORDERS, own, np.where(u < LOCAL_CURRENCY_ORDERS + USD_ORDERS, usd, 0))
    currency = np.where(own > 0, foreign, 0)
    per_unit = EUR_PER_UNIT[currency]
    gross = orders.gross_eur / per_unit
    discount = np.round(gross * orders.discount_rate, 2)
    amount = np.round(gross, 2) - discount
    currency_code = np.where((currency == 0) & (rng.random(n) >= EXPLICIT_EUR), -1, currency)
    offset_style = np.where(
        rng.random(n) < OFFSET_SHARE, 1 + rng.choice(3, size=n, p=OFFSET_STYLES), 0
    ).astype(np.int8)
    utc_offset = _utc_offset_hours(orders.at)
    return pa.table({
        "customer": orders.customer,
        "ts": _timestamps(orders.at),
        "ts_utc": _timestamps(orders.at - utc_offset * 3600),
        "utc_offset": utc_offset.astype(np.int8),
        "offset_style": offset_style,
        "status": _decode(ORDER_STATUSES, orders.status),
        "amount": np.round(amount, 2),
        "discount_amount": discount,
        "currency": _decode(CURRENCIES, currency_code),
        "channel": _decode(ORDER_CHANNELS, orders.channel),
    })


def _orders_sql(n_orders: int, n_customers: int) -> str:
    return f"""
        SELECT {_id_sql('row_id', 'O', _width(8, n_orders))} AS order_id,
               {_id_sql('customer', 'C', _width(7, n_customers))} AS customer_id,
               CASE offset_style
                   WHEN 0 THEN strftime(ts, '{TS_FORMAT}')
                   WHEN 1 THEN strftime(ts_utc, '%Y-%m-%dT%H:%M:%S') || '+00:00'
                   WHEN 2 THEN strftime(ts_utc, '%Y-%m-%dT%H:%M:%SZ')
                   ELSE strftime(ts, '%Y-%m-%dT%H:%M:%S') || '+0' || CAST(utc_offset AS VARCHAR) || ':00'
               END AS ordered_at,
               status,
               CAST(CAST(amount AS DECIMAL(14, 2)) AS VARCHAR) AS amount,
               CAST(CAST(discount_amount AS DECIMAL(14, 2)) AS VARCHAR) AS discount_amount,
               currency, channel
        FROM frame"""


def _contacts_frame(contacts: _Contacts) -> pa.Table:
    return pa.table({
        "customer": contacts.customer,
        "ts": _timestamps(contacts.at),
        "channel": _decode(CONTACT_CHANNELS, contacts.channel),
        "reason": _decode(CONTACT_REASONS, contacts.reason),
        "transfers": contacts.transfers,
        "resolved": contacts.resolved,
    })


def _contacts_sql(n_contacts: int, n_customers: int) -> str:
    return f"""
        SELECT {_id_sql('row_id', 'K', _width(7, n_contacts))} AS contact_id,
               {_id_sql('customer', 'C', _width(7, n_customers))} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS contacted_at,
               channel, reason,
               CAST(transfers AS VARCHAR) AS transfers,
               CAST(resolved AS VARCHAR) AS resolved
        FROM frame"""


def _responses_frame(resp: _Responses, cust: _Customers, seed: int) -> pa.Table:
    rng = _rng(seed, 8)
    language = np.where(np.isin(cust.country[resp.customer], [0, 1]), 0, 1)  # NL/BE Dutch, else English
    pools = [COMMENTS["nl"][k] for k in range(3)] + [COMMENTS["en"][k] for k in range(3)]
    flat = [text for pool in pools for text in pool]
    starts = np.cumsum([0] + [len(p) for p in pools])[:-1]
    sizes = np.array([len(p) for p in pools])
    pool = language * 3 + resp.sentiment
    comment_code = starts[pool] + (rng.random(resp.n) * sizes[pool]).astype(np.int64)
    has_comment = rng.random(resp.n) < COMMENT_PROB[resp.sentiment]
    return pa.table({
        "customer": resp.customer,
        "ts": _timestamps(resp.at),
        "touchpoint_type": _decode(TOUCHPOINT_TYPES, resp.touchpoint_type),
        "touchpoint": pa.array(resp.touchpoint, mask=resp.touchpoint < 0),
        "nps": _nullable_int(resp.nps, resp.has_nps),
        "ces": _nullable_int(resp.ces, resp.has_ces),
        "csat": _nullable_int(resp.csat, resp.has_csat),
        "comment": _decode(flat, comment_code, has_comment),
    })


def _responses_sql(n_responses: int, n_customers: int, n_orders: int, n_contacts: int) -> str:
    return f"""
        SELECT {_id_sql('row_id', 'R', _width(7, n_responses))} AS response_id,
               {_id_sql('customer', 'C', _width(7, n_customers))} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS responded_at,
               touchpoint_type,
               CASE touchpoint_type
                   WHEN 'order' THEN {_id_sql('touchpoint', 'O', _width(8, n_orders))}
                   WHEN 'contact' THEN {_id_sql('touchpoint', 'K', _width(7, n_contacts))}
               END AS touchpoint_id,
               CAST(nps AS VARCHAR) AS nps, CAST(ces AS VARCHAR) AS ces, CAST(csat AS VARCHAR) AS csat,
               comment
        FROM frame"""


SPEND_SQL = """
    SELECT month, channel, CAST(CAST(amount AS DECIMAL(14, 2)) AS VARCHAR) AS amount, currency
    FROM frame"""


# --------------------------------------------------------------------------- writing


def _copy(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str, path: Path, file_format: str) -> None:
    """Write `sql` over `table` (registered as `frame`, with its row number as `row_id`)."""
    con.register("frame", table)
    options = "FORMAT parquet" if file_format == "parquet" else "FORMAT csv, HEADER, DELIMITER ','"
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({sql}) TO '{target}' ({options})")
    con.unregister("frame")


def _write_by_year(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    table: pa.Table,
    at: np.ndarray,
    sql: str,
    out_dir: Path,
    start: date,
    end: date,
    file_format: str,
) -> int:
    """One file per calendar year of `at` (sorted): `<entity>_<Dec 31 or end>.<ext>`."""
    table = table.append_column("row_id", pa.array(np.arange(table.num_rows)))
    for year in range(start.year, end.year + 1):
        lo = np.searchsorted(at, _epoch(date(year, 1, 1)), side="left")
        hi = np.searchsorted(at, _epoch(date(year + 1, 1, 1)), side="left")
        stamp = min(date(year, 12, 31), end).isoformat()
        _copy(con, table.slice(lo, hi - lo), sql, out_dir / f"{entity}_{stamp}.{file_format}", file_format)
    return table.num_rows


# --------------------------------------------------------------------------- public API


def generate_exports(
    out_dir: Path,
    customers: int = 10_000,
    seed: int = 42,
    start: date = date(2022, 1, 1),
    end: date = date(2026, 10, 31),
    file_format: str = "csv",
    progress: bool = False,
    messy: bool = False,
) -> dict[str, int]:
    """Write deterministic sample exports into `out_dir`; return rows written per entity.

    With `messy`, also write the hand-made spreadsheet exports of `write_messy_exports`, whose
    contract-breaking rows show the quarantine at work.

    Files are split per calendar year of their main timestamp (`orders_2024-12-31.csv`,
    the last year dated `end`: `orders_2026-10-31.csv`); marketing spend is one file,
    `marketing_spend_<end>.csv`. `file_format` is "csv" or "parquet" (all columns as
    text). The same arguments always give byte-identical files.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if end < start:
        raise ValueError("end must not be before start")
    if file_format not in ("csv", "parquet"):
        raise ValueError("file_format must be 'csv' or 'parquet'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    end_excl = _epoch(end + timedelta(days=1))

    cust = _make_customers(customers, start, end, seed)
    _log(progress, clock, f"{cust.n:,} customers")

    orders = _make_orders(cust, end_excl, seed)
    orders, contacts = _settle(cust, orders, _make_contacts(cust, orders, seed), end_excl, seed)
    _log(progress, clock, f"{orders.n:,} orders, {contacts.n:,} contacts")

    first_order = np.full(cust.n, np.iinfo(np.int64).max)
    np.minimum.at(first_order, orders.customer, orders.at)
    _assign_referrers(cust, first_order, _rng(seed, 10))

    responses = _make_responses(cust, orders, contacts, start, end, end_excl, seed)
    _log(progress, clock, f"{responses.n:,} survey responses")

    counts: dict[str, int] = {}
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        counts["customers"] = _write_by_year(
            con, "customers", _customers_frame(cust, seed), cust.created, _customers_sql(cust.n),
            out_dir, start, end, file_format,
        )
        counts["orders"] = _write_by_year(
            con, "orders", _orders_frame(orders, cust, seed), orders.at, _orders_sql(orders.n, cust.n),
            out_dir, start, end, file_format,
        )
        counts["contacts"] = _write_by_year(
            con, "contacts", _contacts_frame(contacts), contacts.at, _contacts_sql(contacts.n, cust.n),
            out_dir, start, end, file_format,
        )
        counts["survey_responses"] = _write_by_year(
            con, "survey_responses", _responses_frame(responses, cust, seed), responses.at,
            _responses_sql(responses.n, cust.n, orders.n, contacts.n), out_dir, start, end, file_format,
        )
        spend = _marketing_spend(cust, start, end, seed)
        _copy(con, spend, SPEND_SQL, out_dir / f"marketing_spend_{end.isoformat()}.{file_format}", file_format)
        counts["marketing_spend"] = spend.num_rows
    finally:
        con.close()
    if messy:
        for entity, rows in write_messy_exports(out_dir, end).items():
            counts[entity] += rows
    _log(progress, clock, f"written to {out_dir}: {counts}")
    return counts


#: Rows of the hand-made spreadsheet exports: (order or response id, the row, why it is bad or "").
_MESSY_ORDERS = (
    ("M-0001", "{customer};{date} 10:15;completed;49,95;5,00;EUR;store", ""),
    ("M-0002", "{customer};{date} 11:30;completed;12,50;;;store", ""),
    ("M-0003", ";{date} 12:00;completed;20,00;;EUR;store", "missing required field customer_id"),
    ("M-0004", "{customer};31-12-{year} 13:00;completed;20,00;;EUR;store", "ordered_at: not a timestamp"),
    ("M-0005", "{customer};{date} 14:00;shipped;20,00;;EUR;store", "status: 'shipped' is not one of"),
    ("M-0006", "{customer};{date} 15:00;completed;-3,00;;EUR;store", "amount: -3"),
)
_MESSY_RESPONSES = (
    ("M-R-0001", "{customer};{date} 18:00;periodic;;9;6;5;", ""),
    ("M-R-0002", "{customer};{date} 18:05;periodic;;11;;;", "nps: 11 out of range"),
    ("M-R-0003", "{customer};{date} 18:10;periodic;;;8;;", "ces: 8 out of range"),
)


def write_messy_exports(out_dir: Path, end: date) -> dict[str, int]:
    """Write two small exports the way they often arrive by hand: `;`-separated, decimal commas,
    and a few rows that break the data contract (a missing customer, a day-first date, an unknown
    status, a negative amount, scores out of range). The loader quarantines the bad rows with
    their reasons and loads the good ones. Returns rows written per entity."""
    out_dir = Path(out_dir)
    pattern = "customers_*.parquet" if any(out_dir.glob("customers_*.parquet")) else "customers_*.csv"
    reader = "read_parquet" if pattern.endswith("parquet") else "read_csv"
    with duckdb.connect() as con:
        customer = con.execute(
            f"select min(customer_id) from {reader}('{(out_dir / pattern).as_posix()}')"
        ).fetchone()[0]
    values = {"customer": customer, "date": end.isoformat(), "year": end.year}
    written = {}
    for entity, header, rows in (
        ("orders", "order_id;customer_id;ordered_at;status;amount;discount_amount;currency;channel", _MESSY_ORDERS),
        ("survey_responses", "response_id;customer_id;responded_at;touchpoint_type;touchpoint_id;nps;ces;csat;comment", _MESSY_RESPONSES),
    ):
        lines = [header] + [f"{key};" + row.format(**values) for key, row, _ in rows]
        path = out_dir / f"{entity}_{end.isoformat()}_spreadsheet.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written[entity] = len(rows)
    return written


def messy_rows_expected() -> dict[str, list[tuple[str, str]]]:
    """The keys and reason fragments of the rows `write_messy_exports` writes, per entity ("" = valid)."""
    return {
        "orders": [(key, reason) for key, _, reason in _MESSY_ORDERS],
        "survey_responses": [(key, reason) for key, _, reason in _MESSY_RESPONSES],
    }
