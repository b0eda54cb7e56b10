"""The data contract of the raw exports, as data.

One `Entity` per export. The loader (`flows.ingest`) turns each column's kind into a
SQL check and a typed value, so the rules below are the only place where "valid" is
defined on the Python side; `models/staging/*/_*__sources.yml` documents the same
columns for dbt, and a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "timestamp", "decimal", "integer", "boolean", "month", "enum", "currency"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = "text"
    required: bool = False
    allowed: tuple[str, ...] = ()  # for kind "enum": accepted values, compared in lower case
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    #: holds a customer_id: never an e-mail address (it would be published in every mart)
    customer_id: bool = False


@dataclass(frozen=True)
class Entity:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    file_pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "file_pattern",
            re.compile(rf"^{self.name}(_[^/]*)?\.(csv|csv\.gz|parquet)$", re.IGNORECASE),
        )

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


ENTITIES: tuple[Entity, ...] = (
    Entity(
        name="customers",
        key=("customer_id",),
        description="CRM customer records, one per customer (prospects included).",
        columns=(
            Column("customer_id", required=True, customer_id=True, description="CRM key of the customer."),
            Column("created_at", "timestamp", required=True, description="When the CRM record was created."),
            Column("email", description="E-mail address (personal data: stays in raw and staging)."),
            Column("full_name", description="Full name (personal data: stays in raw and staging)."),
            Column("country", description="ISO 3166 alpha-2 country code."),
            Column("acquisition_channel", description="Marketing channel that brought the customer."),
            Column(
                "referred_by_customer_id",
                customer_id=True,
                description="customer_id of the customer who referred this one.",
            ),
        ),
    ),
    Entity(
        name="orders",
        key=("order_id",),
        description="Orders as they stand in the latest export.",
        columns=(
            Column("order_id", required=True, description="Key of the order."),
            Column("customer_id", required=True, customer_id=True, description="Customer who placed the order."),
            Column("ordered_at", "timestamp", required=True, description="ISO 8601, with or without offset."),
            Column(
                "status",
                "enum",
                required=True,
                allowed=("completed", "cancelled", "refunded"),
                description="completed, cancelled or refunded.",
            ),
            Column(
                "amount", "decimal", required=True, minimum=0, description="What the customer paid, after discounts."
            ),
            Column("discount_amount", "decimal", minimum=0, description="Discount given; empty means 0."),
            Column("currency", "currency", description="ISO 4217; empty means the reporting currency."),
            Column("channel", description="Sales channel: web, store, phone, app, ..."),
            Column(
                "cost_amount",
                "decimal",
                minimum=0,
                description="Cost of goods of the order in `currency`; empty means amount x (1 - var gross_margin_rate).",
            ),
        ),
    ),
    Entity(
        name="contacts",
        key=("contact_id",),
        description="Customer service interactions.",
        columns=(
            Column("contact_id", required=True, description="Key of the contact."),
            Column("customer_id", required=True, customer_id=True, description="Customer who made contact."),
            Column("contacted_at", "timestamp", required=True, description="When the contact started."),
            Column("channel", required=True, description="phone, email, chat, store."),
            Column("reason", description="Why the customer got in touch."),
            Column("transfers", "integer", minimum=0, description="Times the customer was passed on; empty means 0."),
            Column("resolved", "boolean", description="Whether the question was resolved."),
        ),
    ),
    Entity(
        name="marketing_spend",
        key=("month", "channel"),
        description="Marketing spend per month and acquisition channel.",
        columns=(
            Column("month", "month", required=True, description="YYYY-MM."),
            Column("channel", required=True, description="Acquisition channel the money was spent on."),
            Column("amount", "decimal", required=True, minimum=0, description="Spend in `currency`."),
            Column("currency", "currency", description="ISO 4217; empty means the reporting currency."),
        ),
    ),
    Entity(
        name="survey_responses",
        key=("response_id",),
        description="Survey answers after orders, contacts and periodic relationship surveys.",
        columns=(
            Column("response_id", required=True, description="Key of the response."),
            Column(
                "customer_id",
                required=True,
                customer_id=True,
                description="Customer who answered (responses are not anonymous).",
            ),
            Column("responded_at", "timestamp", required=True, description="When the answer was given."),
            Column(
                "touchpoint_type",
                "enum",
                required=True,
                allowed=("order", "contact", "periodic"),
                description="order, contact or periodic.",
            ),
            Column("touchpoint_id", description="order_id or contact_id the survey followed; empty for periodic."),
            Column("nps", "integer", minimum=0, maximum=10, description="Likelihood to recommend, 0-10."),
            Column("ces", "integer", minimum=1, maximum=7, description="Customer effort, 1-7 (7 = very easy)."),
            Column("csat", "integer", minimum=1, maximum=5, description="Satisfaction, 1-5."),
            Column("comment", description="Free text."),
        ),
    ),
)


def entity_for_file(file_name: str) -> Entity | None:
    """The entity an export file belongs to, from its name (`orders_2025-01-31.csv` -> orders)."""
    # Longest name first, so that a future entity whose name starts with another's still matches right.
    for entity in sorted(ENTITIES, key=lambda e: len(e.name), reverse=True):
        if entity.file_pattern.match(file_name):
            return entity
    return None
