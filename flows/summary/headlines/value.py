"""Headlines of customer value (docs/customer_value.md): customer equity and the CLV of a new
customer, CLV / CAC per acquisition channel, and the model's error on the holdout."""

from __future__ import annotations

from flows.summary.formatting import format_count, format_number, format_share, money_in
from flows.summary.headlines.base import Headline, formatted_table
from flows.summary.report import HeadlineTable

EQUITY_SQL = """
with latest_month as (
    select * from marts.customer_equity
    where acquisition_channel = 'all'
      and acquisition_month < cast(date_trunc('month', as_of_date) as date)
    order by acquisition_month desc
    limit 1
)
select
    (select strftime(max(as_of_date), '%Y-%m-%d') from marts.customer_lifetime_value) as as_of_date,
    (select count(*) from marts.customer_lifetime_value) as customers,
    (select sum(clv) from marts.customer_lifetime_value) as customer_equity,
    (select avg(clv) from marts.customer_lifetime_value) as mean_clv,
    (select strftime(acquisition_month, '%Y-%m') from latest_month) as new_customers_month,
    (select mean_clv from latest_month) as mean_clv_new_customer,
    (select avg(p_alive) from marts.customer_lifetime_value) as mean_p_alive
"""

#: The channels with a CAC, as acquisition_channel_value defines them (the report shows the same mart):
#: their customers of the months with a CAC, those customers' mean CLV, the CAC and CLV / CAC.
CHANNEL_SQL = """
select
    acquisition_channel as channel,
    customers_with_cac as new_customers,
    mean_clv_with_cac as mean_clv,
    cac,
    clv_to_cac
from marts.acquisition_channel_value
where acquisition_channel <> 'all' and cac is not null
order by clv_to_cac desc nulls last, acquisition_channel
"""

HOLDOUT_SQL = """
select
    strftime(calibration_end, '%Y-%m-%d') as calibration_end,
    holdout_days,
    customers,
    actual_repeat_purchases as actual,
    expected_repeat_purchases as expected,
    relative_error
from marts.clv_holdout_validation
where check_type = 'total'
"""


def equity_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable | None:
    if not rows or rows[0][1] in (None, 0):
        return None
    money = money_in(currency)
    return formatted_table(
        title,
        columns,
        rows,
        {
            "customers": format_count,
            "customer_equity": money,
            "mean_clv": money,
            "mean_clv_new_customer": money,
            "new_customers_month": lambda value: "" if value is None else str(value),
            "mean_p_alive": format_share,
        },
    )


def channel_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable | None:
    if not rows:
        return None
    money = money_in(currency)
    return formatted_table(
        title,
        columns,
        rows,
        {"new_customers": format_count, "mean_clv": money, "cac": money, "clv_to_cac": format_number},
    )


def holdout_table(title: str, columns: list[str], rows: list[tuple], currency: str) -> HeadlineTable | None:
    if not rows:
        return None  # the calibration ends on the as-of date: no holdout
    return formatted_table(
        title,
        columns,
        rows,
        {
            "holdout_days": format_count,
            "customers": format_count,
            "actual": lambda value: format_number(value, 0),
            "expected": lambda value: format_number(value, 1),
            "relative_error": format_share,
        },
    )


HEADLINES: list[Headline] = [
    Headline("customer_equity", "Customer value on the as-of date (36-month CLV)", EQUITY_SQL, equity_table),
    Headline("acquisition_channel_value", "CLV / CAC per acquisition channel", CHANNEL_SQL, channel_table),
    Headline("clv_holdout_validation", "CLV model on the holdout (repeat purchases)", HOLDOUT_SQL, holdout_table),
]
