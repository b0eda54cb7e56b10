"""Orders (the BG/NBD story): purchase times, status, channel, amounts, relationship ends, and the orders export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from flows.sample_data.clock import skip_dst_gap, utc_offset_hours
from flows.sample_data.customers import Customers
from flows.sample_data.draws import choice_by_group, rng_stream, time_of_day
from flows.sample_data.params import (
    BUY_DELAY_MEAN_DAYS,
    BUY_DELAY_SAME_SESSION,
    CANCEL_PROB,
    CURRENCIES,
    CUT_AFTER_BAD_CONTACT,
    CUT_AFTER_REFUND,
    DAY,
    DISCOUNT_PROB_OTHER,
    DISCOUNT_PROB_SHOPPER,
    DISCOUNT_RATE_WEIGHTS,
    DISCOUNT_RATES,
    EUR_PER_UNIT,
    EXPLICIT_EUR,
    LOCAL_CURRENCY_ORDERS,
    OFFSET_SHARE,
    OFFSET_STYLES,
    ONLINE_HOURS,
    ORDER_CHANNEL_MIX,
    ORDER_CHANNELS,
    ORDER_STATUSES,
    PREFERRED_ORDER_CHANNEL,
    REFUND_PROB,
    RETAIL_STORE,
    SPEND_SIGMA,
    STORE_HOURS,
    TS_FORMAT,
    USD_ORDERS,
)
from flows.sample_data.writer import decode, id_sql, id_width, timestamps


@dataclass
class Orders:
    """One row per order, with its amount in EUR before currency and discount."""

    customer: np.ndarray  # generated sorted by customer, then time; `settle` puts them in time order
    at: np.ndarray  # seconds
    status: np.ndarray  # code into ORDER_STATUSES
    channel: np.ndarray  # code into ORDER_CHANNELS
    gross_eur: np.ndarray
    discount_rate: np.ndarray

    def take(self, rows: np.ndarray) -> Orders:
        return Orders(**{k: v[rows] for k, v in self.__dict__.items()})

    @property
    def n(self) -> int:
        return len(self.at)


def _purchase_times(cust: Customers, end_excl: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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
    hour = np.where(
        cust.order_channel[customer] == ORDER_CHANNELS.index("store"),
        time_of_day(rng, len(at), STORE_HOURS),
        time_of_day(rng, len(at), ONLINE_HOURS),
    )
    at = np.where(later, np.maximum(day_start + hour, first[customer]), at)
    keep = at < end_excl
    customer, at = customer[keep], skip_dst_gap(at[keep])
    order = np.lexsort((at, customer))
    return customer[order], at[order]


def make_orders(cust: Customers, end_excl: int, seed: int) -> Orders:
    """Every order before `end_excl` with status, channel, gross amount and discount rate."""
    rng = rng_stream(seed, 2)
    customer, at = _purchase_times(cust, end_excl, rng)
    n = len(at)
    s = cust.satisfaction[customer]
    u = rng.random(n)
    refund_prob = REFUND_PROB * np.exp(-0.6 * s)
    status = np.where(u < CANCEL_PROB, 1, np.where(u < CANCEL_PROB + refund_prob, 2, 0)).astype(np.int8)
    channel = np.where(
        rng.random(n) < PREFERRED_ORDER_CHANNEL,
        cust.order_channel[customer],
        choice_by_group(rng, np.zeros(n, dtype=np.int64), ORDER_CHANNEL_MIX[-1:]),
    ).astype(np.int8)
    gross = np.maximum(cust.spend[customer] * rng.lognormal(-(SPEND_SIGMA**2) / 2, SPEND_SIGMA, n), 3.0)
    discount_prob = np.where(cust.price_shopper[customer], DISCOUNT_PROB_SHOPPER, DISCOUNT_PROB_OTHER)
    discounted = rng.random(n) < discount_prob
    rate_weights = DISCOUNT_RATE_WEIGHTS / DISCOUNT_RATE_WEIGHTS.sum()
    rates = DISCOUNT_RATES[rng.choice(len(DISCOUNT_RATES), size=n, p=rate_weights)]
    return Orders(customer, at, status, channel, np.round(gross, 2), np.where(discounted, rates, 0.0))


def _group_starts(keys: np.ndarray) -> np.ndarray:
    """Row index where each run of equal (sorted) keys starts."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def end_relationships(orders: Orders, bad_order: np.ndarray, cust: Customers, rng: np.random.Generator) -> np.ndarray:
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


def orders_frame(orders: Orders, cust: Customers, seed: int) -> pa.Table:
    """Order rows in id order (= time order) with amounts, currency and timestamp style."""
    rng = rng_stream(seed, 7)
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
    offset_style = np.where(rng.random(n) < OFFSET_SHARE, 1 + rng.choice(3, size=n, p=OFFSET_STYLES), 0).astype(np.int8)
    utc_offset = utc_offset_hours(orders.at)
    return pa.table(
        {
            "customer": orders.customer,
            "ts": timestamps(orders.at),
            "ts_utc": timestamps(orders.at - utc_offset * 3600),
            "utc_offset": utc_offset.astype(np.int8),
            "offset_style": offset_style,
            "status": decode(ORDER_STATUSES, orders.status),
            "amount": np.round(amount, 2),
            "discount_amount": discount,
            "currency": decode(CURRENCIES, currency_code),
            "channel": decode(ORDER_CHANNELS, orders.channel),
        }
    )


#: cost of goods of a sample order as a share of its amount (a gross margin of 40 %)
COST_SHARE = 0.6


def orders_sql(n_orders: int, n_customers: int) -> str:
    """The SELECT over `orders_frame` that writes the orders export (a few timestamps with offset)."""
    return f"""
        SELECT {id_sql("row_id", "O", id_width(8, n_orders))} AS order_id,
               {id_sql("customer", "C", id_width(7, n_customers))} AS customer_id,
               CASE offset_style
                   WHEN 0 THEN strftime(ts, '{TS_FORMAT}')
                   WHEN 1 THEN strftime(ts_utc, '%Y-%m-%dT%H:%M:%S') || '+00:00'
                   WHEN 2 THEN strftime(ts_utc, '%Y-%m-%dT%H:%M:%SZ')
                   ELSE strftime(ts, '%Y-%m-%dT%H:%M:%S') || '+0' || CAST(utc_offset AS VARCHAR) || ':00'
               END AS ordered_at,
               status,
               CAST(CAST(amount AS DECIMAL(14, 2)) AS VARCHAR) AS amount,
               CAST(CAST(discount_amount AS DECIMAL(14, 2)) AS VARCHAR) AS discount_amount,
               currency, channel,
               -- cost of goods: a fixed COST_SHARE of what the customer paid
               CAST(CAST(round(amount * {COST_SHARE}, 2) AS DECIMAL(14, 2)) AS VARCHAR) AS cost_amount
        FROM frame"""
