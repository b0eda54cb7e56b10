"""Customers: CRM records over time, their latent traits, referrers, and the customers export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from flows.sample_data.clock import epoch, skip_dst_gap
from flows.sample_data.draws import choice_by_group, rng_stream, time_of_day
from flows.sample_data.names import name_pools
from flows.sample_data.params import (
    ACQUISITION_CHANNELS,
    CHANNEL_BUY_PROB,
    CHANNEL_DROPOUT,
    CHANNEL_EMPTY_SHARE,
    CHANNEL_MIX,
    CHANNEL_RATE,
    CHANNEL_SATISFACTION,
    CHANNEL_TREND,
    COUNTRIES,
    COUNTRY_CURRENCY,
    COUNTRY_LOCALE,
    COUNTRY_MIX_ONLINE,
    COUNTRY_MIX_STORE,
    CURRENCIES,
    DAY,
    DROPOUT_A,
    DROPOUT_B,
    DROPOUT_SATISFACTION,
    EMAIL_DOMAINS,
    EMAIL_MISSING,
    EMAIL_MISSING_STORE,
    GROWTH_PER_YEAR,
    LOCAL_CURRENCY_PAYERS,
    MONTH_SEASON,
    NAME_POOL_SIZE,
    ONLINE_HOURS,
    ORDER_CHANNEL_MIX,
    ORGANIC,
    PRICE_SHOPPERS,
    RATE_MEAN,
    RATE_SHAPE,
    REFERRAL,
    RESPONSE_A,
    RESPONSE_B,
    RETAIL_STORE,
    SPEND_MEAN,
    SPEND_SHAPE,
    STORE_HOURS,
    TS_FORMAT,
    WEEKDAY_WEIGHT,
    YEAR_DAYS,
)
from flows.sample_data.writer import decode, id_sql, id_width, timestamps


@dataclass
class Customers:
    """One row per CRM record, in order of creation, with the latent traits that drive behaviour."""

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


def make_customers(n: int, start: date, end: date, seed: int) -> Customers:
    """`n` CRM records created between `start` and `end`, with channel, country and traits."""
    rng = rng_stream(seed, 1)
    day = _acquisition_days(n, start, end, rng)
    channel = _acquisition_channels(day / YEAR_DAYS, rng)
    store = channel == RETAIL_STORE
    tod = np.where(store, time_of_day(rng, n, STORE_HOURS), time_of_day(rng, n, ONLINE_HOURS))
    created = skip_dst_gap(epoch(start) + day.astype(np.int64) * DAY + tod)
    order = np.argsort(created, kind="stable")
    created, channel, store = created[order], channel[order], store[order]

    group = np.where(channel < 0, len(ACQUISITION_CHANNELS), channel)  # row in the per-channel tables
    country = choice_by_group(rng, store.astype(np.int64), np.vstack([COUNTRY_MIX_ONLINE, COUNTRY_MIX_STORE]))
    satisfaction = rng.normal(0.0, 1.0, n) + CHANNEL_SATISFACTION[group]
    buyer = rng.random(n) < CHANNEL_BUY_PROB[group]
    price_shopper = rng.random(n) < PRICE_SHOPPERS
    rate = rng.gamma(RATE_SHAPE, RATE_MEAN / RATE_SHAPE, n) * CHANNEL_RATE[group] * np.where(price_shopper, 1.1, 1.0)
    dropout = rng.beta(DROPOUT_A, DROPOUT_B, n) * CHANNEL_DROPOUT[group] * np.exp(-DROPOUT_SATISFACTION * satisfaction)
    spend = rng.gamma(SPEND_SHAPE, SPEND_MEAN / SPEND_SHAPE, n) * np.where(price_shopper, 0.85, 1.0)
    response = rng.beta(RESPONSE_A, RESPONSE_B, n)
    order_channel = choice_by_group(rng, group, ORDER_CHANNEL_MIX)

    own_currency = np.zeros(len(COUNTRIES), dtype=np.int8)
    for code, cur in COUNTRY_CURRENCY.items():
        own_currency[COUNTRIES.index(code)] = CURRENCIES.index(cur)
    currency = np.where(rng.random(n) < LOCAL_CURRENCY_PAYERS, own_currency[country], 0).astype(np.int8)

    return Customers(
        created=created,
        channel=channel,
        country=country,
        satisfaction=satisfaction,
        buyer=buyer,
        rate=rate / YEAR_DAYS,
        dropout=np.clip(dropout, 0.002, 0.95),
        spend=spend,
        price_shopper=price_shopper,
        response=response,
        order_channel=order_channel,
        currency=currency,
        referrer=np.full(n, -1, dtype=np.int64),
    )


def assign_referrers(cust: Customers, first_order: np.ndarray, rng: np.random.Generator) -> None:
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


def customers_frame(cust: Customers, seed: int) -> pa.Table:
    """The columns of the customers export before formatting: names, e-mails (a few missing), codes."""
    rng = rng_stream(seed, 6)
    first, last, first_slug, last_slug = name_pools(seed)
    block = COUNTRY_LOCALE[cust.country].astype(np.int64) * NAME_POOL_SIZE
    fi = pa.array(block + rng.integers(0, NAME_POOL_SIZE, cust.n))
    li = pa.array(block + rng.integers(0, NAME_POOL_SIZE, cust.n))
    number = pc.cast(pa.array(np.arange(1, cust.n + 1)), pa.string())
    local_part = pc.binary_join_element_wise(first_slug.take(fi), last_slug.take(li), ".")
    domain = decode(EMAIL_DOMAINS, rng.choice(len(EMAIL_DOMAINS), cust.n, p=[0.4, 0.2, 0.2, 0.1, 0.1]))
    email = pc.binary_join_element_wise(pc.binary_join_element_wise(local_part, number, ""), domain, "@")
    missing = rng.random(cust.n) < np.where(cust.channel == RETAIL_STORE, EMAIL_MISSING_STORE, EMAIL_MISSING)
    return pa.table(
        {
            "id": np.arange(cust.n),
            "ts": timestamps(cust.created),
            "email": pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), email),
            "full_name": pc.binary_join_element_wise(first.take(fi), last.take(li), " "),
            "country": decode(COUNTRIES, cust.country),
            "acquisition_channel": decode(ACQUISITION_CHANNELS, cust.channel),
            "referrer": pa.array(cust.referrer, mask=cust.referrer < 0),
        }
    )


def customers_sql(n: int) -> str:
    """The SELECT over `customers_frame` that writes the customers export."""
    w = id_width(7, n)
    return f"""
        SELECT {id_sql("id", "C", w)} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS created_at,
               email, full_name, country, acquisition_channel,
               {id_sql("referrer", "C", w)} AS referred_by_customer_id
        FROM frame"""
