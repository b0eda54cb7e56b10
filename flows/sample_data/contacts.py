"""Service contacts after orders (and a few from prospects), settling orders and contacts, the contacts export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from flows.sample_data.clock import skip_dst_gap
from flows.sample_data.customers import Customers
from flows.sample_data.draws import choice_by_group, rng_stream, time_of_day
from flows.sample_data.orders import Orders, end_relationships
from flows.sample_data.params import (
    CONTACT_CHANNEL_MIX,
    CONTACT_CHANNELS,
    CONTACT_RATE,
    CONTACT_RATE_EXTRA,
    CONTACT_REASON_MIX,
    CONTACT_REASONS,
    DAY,
    EXPERIENCE_PER_TRANSFER,
    EXPERIENCE_UNRESOLVED,
    MAX_TRANSFERS,
    PROSPECT_CONTACTS,
    REASON_EMPTY,
    REASON_GAP_MEAN,
    REASON_GAP_MIN,
    SERVICE_HOURS,
    TRANSFER_CHANNEL,
    TRANSFER_RATE,
    TRANSFER_REASON,
    TS_FORMAT,
)
from flows.sample_data.writer import decode, id_sql, id_width, timestamps


@dataclass
class Contacts:
    """One row per service contact, in time order after `settle`."""

    customer: np.ndarray
    order: np.ndarray  # row in orders, -1 for prospect contacts
    at: np.ndarray
    channel: np.ndarray
    reason: np.ndarray  # -1 = empty
    transfers: np.ndarray
    resolved: np.ndarray

    def take(self, rows: np.ndarray) -> Contacts:
        return Contacts(**{k: v[rows] for k, v in self.__dict__.items()})

    @property
    def n(self) -> int:
        return len(self.at)

    @property
    def experience(self) -> np.ndarray:
        """How the contact weighs on a survey answer: unresolved and transferred contacts are worse."""
        return EXPERIENCE_UNRESOLVED * ~self.resolved + EXPERIENCE_PER_TRANSFER * self.transfers

    @property
    def bad(self) -> np.ndarray:
        """Unresolved, or passed on at least twice."""
        return ~self.resolved | (self.transfers >= 2)


def _service_time(rng: np.random.Generator, after: np.ndarray, gap_days: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """A moment during service hours on the day `gap_days` after `after`, never before it."""
    day = after + (gap_days * DAY).astype(np.int64)
    at = day - day % DAY + time_of_day(rng, len(after), hours)
    return skip_dst_gap(np.where(at > after, at, after + rng.integers(300, 7200, len(after))))


def make_contacts(cust: Customers, orders: Orders, seed: int) -> Contacts:
    """Contacts about orders (more after cancellations and refunds), then a few from prospects."""
    rng = rng_stream(seed, 3)
    s = cust.satisfaction[orders.customer]
    rate = CONTACT_RATE * np.exp(-0.25 * s) + CONTACT_RATE_EXTRA[orders.status]
    order = np.repeat(np.arange(orders.n), rng.poisson(rate))
    reason = choice_by_group(rng, orders.status[order], CONTACT_REASON_MIX)
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
    channel = choice_by_group(rng, order_channel, CONTACT_CHANNEL_MIX)
    n = len(at)
    transfer_rate = TRANSFER_RATE * TRANSFER_CHANNEL[channel] * TRANSFER_REASON[reason]
    transfers = np.minimum(rng.poisson(transfer_rate), MAX_TRANSFERS)
    complaint = reason == CONTACT_REASONS.index("complaint")
    logit = 2.3 - 0.75 * transfers + 0.35 * cust.satisfaction[customer] - 0.6 * complaint
    resolved = rng.random(n) < 1 / (1 + np.exp(-logit))
    reason = np.where(rng.random(n) < REASON_EMPTY, -1, reason).astype(np.int8)
    return Contacts(customer, order, at, channel, reason, transfers.astype(np.int64), resolved)


def settle(cust: Customers, orders: Orders, contacts: Contacts, end_excl: int, seed: int) -> tuple[Orders, Contacts]:
    """Apply relationship ends, drop what falls after `end`, and put rows in time order.

    The row number is then the id number: order and contact ids follow time.
    """
    bad_order = np.zeros(orders.n, dtype=bool)
    bad_order[contacts.order[(contacts.order >= 0) & contacts.bad]] = True
    kept = end_relationships(orders, bad_order, cust, rng_stream(seed, 9))
    by_time = kept[np.lexsort((orders.customer[kept], orders.at[kept]))]
    new_row = np.full(orders.n, -1)
    new_row[by_time] = np.arange(len(by_time))
    orders = orders.take(by_time)

    new_order = np.r_[new_row, -1][contacts.order]  # order -1 (prospect contact) stays -1
    keep = ((contacts.order < 0) | (new_order >= 0)) & (contacts.at < end_excl)
    contacts.order = new_order
    contacts = contacts.take(np.flatnonzero(keep))
    return orders, contacts.take(np.lexsort((contacts.order, contacts.customer, contacts.at)))


def contacts_frame(contacts: Contacts) -> pa.Table:
    """The columns of the contacts export before formatting."""
    return pa.table(
        {
            "customer": contacts.customer,
            "ts": timestamps(contacts.at),
            "channel": decode(CONTACT_CHANNELS, contacts.channel),
            "reason": decode(CONTACT_REASONS, contacts.reason),
            "transfers": contacts.transfers,
            "resolved": contacts.resolved,
        }
    )


def contacts_sql(n_contacts: int, n_customers: int) -> str:
    """The SELECT over `contacts_frame` that writes the contacts export."""
    return f"""
        SELECT {id_sql("row_id", "K", id_width(7, n_contacts))} AS contact_id,
               {id_sql("customer", "C", id_width(7, n_customers))} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS contacted_at,
               channel, reason,
               CAST(transfers AS VARCHAR) AS transfers,
               CAST(resolved AS VARCHAR) AS resolved
        FROM frame"""
