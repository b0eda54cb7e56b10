"""Survey responses after orders, after contacts and once a year, with scores driven by satisfaction and experience."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from flows.sample_data.clock import epoch, skip_dst_gap
from flows.sample_data.contacts import Contacts
from flows.sample_data.customers import Customers
from flows.sample_data.draws import rng_stream
from flows.sample_data.orders import Orders
from flows.sample_data.params import (
    ANSWER_NOISE,
    COMMENT_PROB,
    COMMENTS,
    DAY,
    EMPTY_SCORE,
    EXPERIENCE_REFUND,
    ORDER_CES_SHARE,
    PERIODIC_DAY,
    PERIODIC_MONTH,
    PERIODIC_RESPONSE,
    PERIODIC_SAMPLE,
    PERIODIC_SPREAD_DAYS,
    RESPONSE_MAX_DAYS,
    SCORE_NOISE,
    TOUCHPOINT_TYPES,
    TS_FORMAT,
)
from flows.sample_data.writer import decode, id_sql, id_width, nullable_int, timestamps


@dataclass
class Responses:
    """One row per survey answer: the scores it has and the sentiment that picks its comment."""

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


def _scores(u: np.ndarray, rng: np.random.Generator, centre: float, scale: float, lo: int, hi: int) -> np.ndarray:
    """Map a latent answer to an integer scale with a little score-specific noise."""
    raw = centre + scale * (u + rng.normal(0.0, SCORE_NOISE, len(u)))
    return np.clip(np.rint(raw), lo, hi).astype(np.int64)


def _answers(
    rng: np.random.Generator,
    cust: Customers,
    customer: np.ndarray,
    touch_at: np.ndarray,
    experience: np.ndarray,
    touch_type: int,
    touchpoint: np.ndarray,
    ask_ces: np.ndarray,
    ask_csat: bool,
    end_excl: int,
) -> Responses:
    """Invitations -> responses (by propensity, within ~7 days, before `end`) with scores."""
    propensity = cust.response[customer] * (PERIODIC_RESPONSE if touch_type == 2 else 1.0)
    answered = rng.random(len(customer)) < propensity
    delay = (np.minimum(rng.exponential(1.6, len(customer)) + 0.02, RESPONSE_MAX_DAYS) * DAY).astype(np.int64)
    at = skip_dst_gap(touch_at + delay)
    keep = answered & (at < end_excl)
    customer, at, experience, touchpoint, ask_ces = (
        customer[keep],
        at[keep],
        experience[keep],
        touchpoint[keep],
        ask_ces[keep],
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
    return Responses(
        customer,
        at,
        np.full(n, touch_type, dtype=np.int8),
        touchpoint,
        nps,
        ces,
        csat,
        has_nps,
        has_ces,
        has_csat,
        sentiment,
    )


def _periodic_invites(
    cust: Customers, orders: Orders, contacts: Contacts, start: date, end: date, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(customer, sent at, recent experience) of the yearly relationship survey.

    Each September a sample of the customers who ordered in the previous 365 days is
    invited; bad contacts in that year weigh on the answer.
    """
    customers: list[np.ndarray] = []
    sent: list[np.ndarray] = []
    experience: list[np.ndarray] = []
    for year in range(start.year, end.year + 1):  # one wave per year
        wave = epoch(date(year, PERIODIC_MONTH, PERIODIC_DAY))
        if wave < epoch(start) or wave >= epoch(end):
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


def make_responses(
    cust: Customers, orders: Orders, contacts: Contacts, start: date, end: date, end_excl: int, seed: int
) -> Responses:
    """Answers to order, contact and yearly surveys, in time order."""
    rng = rng_stream(seed, 4)
    surveyed = np.flatnonzero(orders.status != 1)  # no survey after a cancelled order
    order_experience = np.where(orders.status == 2, EXPERIENCE_REFUND, 0.0)[surveyed]
    by_order = _answers(
        rng,
        cust,
        orders.customer[surveyed],
        orders.at[surveyed],
        order_experience,
        0,
        surveyed,
        rng.random(len(surveyed)) < ORDER_CES_SHARE,
        True,
        end_excl,
    )
    by_contact = _answers(
        rng,
        cust,
        contacts.customer,
        contacts.at,
        contacts.experience,
        1,
        np.arange(contacts.n),
        np.ones(contacts.n, bool),
        True,
        end_excl,
    )
    p_customer, p_sent, p_experience = _periodic_invites(cust, orders, contacts, start, end, rng)
    periodic = _answers(
        rng,
        cust,
        p_customer,
        p_sent,
        p_experience,
        2,
        np.full(len(p_customer), -1),
        np.zeros(len(p_customer), bool),
        False,
        end_excl,
    )
    parts = (by_order, by_contact, periodic)
    merged = Responses(*(np.concatenate([getattr(p, f) for p in parts]) for f in Responses.__dataclass_fields__))
    order = np.lexsort((merged.touchpoint, merged.touchpoint_type, merged.customer, merged.at))
    return Responses(*(getattr(merged, f)[order] for f in Responses.__dataclass_fields__))


def responses_frame(resp: Responses, cust: Customers, seed: int) -> pa.Table:
    """The columns of the survey responses export before formatting, with a short comment now and then."""
    rng = rng_stream(seed, 8)
    language = np.where(np.isin(cust.country[resp.customer], [0, 1]), 0, 1)  # NL/BE Dutch, else English
    pools = [COMMENTS["nl"][k] for k in range(3)] + [COMMENTS["en"][k] for k in range(3)]
    flat = [text for pool in pools for text in pool]
    starts = np.cumsum([0] + [len(p) for p in pools])[:-1]
    sizes = np.array([len(p) for p in pools])
    pool = language * 3 + resp.sentiment
    comment_code = starts[pool] + (rng.random(resp.n) * sizes[pool]).astype(np.int64)
    has_comment = rng.random(resp.n) < COMMENT_PROB[resp.sentiment]
    return pa.table(
        {
            "customer": resp.customer,
            "ts": timestamps(resp.at),
            "touchpoint_type": decode(TOUCHPOINT_TYPES, resp.touchpoint_type),
            "touchpoint": pa.array(resp.touchpoint, mask=resp.touchpoint < 0),
            "nps": nullable_int(resp.nps, resp.has_nps),
            "ces": nullable_int(resp.ces, resp.has_ces),
            "csat": nullable_int(resp.csat, resp.has_csat),
            "comment": decode(flat, comment_code, has_comment),
        }
    )


def responses_sql(n_responses: int, n_customers: int, n_orders: int, n_contacts: int) -> str:
    """The SELECT over `responses_frame` that writes the survey responses export."""
    return f"""
        SELECT {id_sql("row_id", "R", id_width(7, n_responses))} AS response_id,
               {id_sql("customer", "C", id_width(7, n_customers))} AS customer_id,
               strftime(ts, '{TS_FORMAT}') AS responded_at,
               touchpoint_type,
               CASE touchpoint_type
                   WHEN 'order' THEN {id_sql("touchpoint", "O", id_width(8, n_orders))}
                   WHEN 'contact' THEN {id_sql("touchpoint", "K", id_width(7, n_contacts))}
               END AS touchpoint_id,
               CAST(nps AS VARCHAR) AS nps, CAST(ces AS VARCHAR) AS ces, CAST(csat AS VARCHAR) AS csat,
               comment
        FROM frame"""
