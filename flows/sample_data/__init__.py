"""Sample data: synthetic raw exports for the customer-value warehouse.

`generate_exports()` writes CRM, order, service-contact, marketing-spend and survey
exports that follow the data contract in `flows.contract`, with a story underneath
that the marts can recover. Everything is vectorised numpy (no loop per customer or
per row) and fully determined by `seed` and the arguments: the same call writes
byte-identical files. A tool for trying out and testing the pipeline, not part of it.

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

The modules
-----------
params      export columns, category codes and every parameter of the model above
draws       one random generator per part of the model, and the draws the parts share
clock       naive local seconds: dates, Europe/Amsterdam summer time
names       name pools per locale from seeded Faker instances
customers   CRM records, latent traits, referrers; the customers export
orders      purchase times, status, amounts, relationship ends; the orders export
contacts    service contacts, settling orders and contacts in time order; the contacts export
surveys     order, contact and yearly surveys; the survey responses export
marketing   spend per month and paid channel
writer      Arrow columns, ids in SQL, one CSV/Parquet file per calendar year (DuckDB COPY)
exports     `generate_exports`: the parts in order, then the files
messy       the hand-made `;` exports of `--messy`, with a few contract-breaking rows
increments  `hold_back_after`: split a folder of exports into the history and a later delivery
"""

from __future__ import annotations

from flows.sample_data.exports import generate_exports
from flows.sample_data.increments import hold_back_after
from flows.sample_data.messy import messy_rows_expected, write_messy_exports
from flows.sample_data.params import (
    ACQUISITION_CHANNELS,
    CONTACT_CHANNELS,
    CONTACT_REASONS,
    CURRENCIES,
    EXPORT_COLUMNS,
    ORDER_CHANNELS,
    ORDER_STATUSES,
    PAID_CHANNELS,
    TOUCHPOINT_TYPES,
)

__all__ = [
    "generate_exports",
    "write_messy_exports",
    "messy_rows_expected",
    "hold_back_after",
    "EXPORT_COLUMNS",
    "ACQUISITION_CHANNELS",
    "PAID_CHANNELS",
    "ORDER_CHANNELS",
    "ORDER_STATUSES",
    "CONTACT_CHANNELS",
    "CONTACT_REASONS",
    "CURRENCIES",
    "TOUCHPOINT_TYPES",
]
