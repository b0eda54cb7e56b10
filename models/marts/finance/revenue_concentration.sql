{#- Revenue concentration per calendar year and over the trailing 12 months: definitions, ties and
    rounding in docs/personas_and_value.md. One row per customer and period is ranked, never days. -#}
{%- set decimals = var('value_share_decimals') %}
{%- set target_share = var('concentration_target_revenue_share') %}
{#- The "top p" shares reported, fixed: column top_<100 p>_pct_revenue_share. -#}
{%- set top_shares = [0.01, 0.10, 0.20, 0.50] %}
with

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

years as (

    -- the reporting periods of grain year; period_end is capped at the as-of date
    select
        period_grain,
        period_start,
        period_end,
        is_complete

    from {{ ref('int_reporting_periods_generated') }}
    where period_grain = 'year'

),

customer_years as (

    select
        years.period_grain,
        years.period_start,
        years.period_end,
        years.is_complete,
        order_days.customer_id,
        sum(order_days.revenue) as revenue

    from order_days
    inner join years
        -- an equi-join on the year (a hash join, not a range join over every order day)
        on cast(date_trunc('year', order_days.order_date) as date) = years.period_start
        and order_days.order_date <= years.period_end
    group by all

),

customer_trailing_12_months as (

    -- completed orders dated after as-of date - 12 months, up to the as-of date
    select
        'trailing_12_months' as period_grain,
        {{ add_days('cast(' ~ add_months('as_of.as_of_date', -12) ~ ' as date)', 1) }} as period_start,
        as_of.as_of_date as period_end,
        true as is_complete,
        order_days.customer_id,
        sum(order_days.revenue) as revenue

    from order_days
    cross join as_of
    where order_days.order_date > cast({{ add_months('as_of.as_of_date', -12) }} as date)
    group by all

),

customer_periods as (

    select * from customer_years
    union all
    select * from customer_trailing_12_months

),

ranked as (

    -- rank 1 = the customer with the most revenue; ties in revenue are ordered by customer_id, which
    -- changes no figure (tied customers bring the same revenue)
    select
        *,
        cast(row_number() over period_by_revenue as bigint) as revenue_rank,
        count(*) over (partition by period_grain, period_start) as period_customers,
        sum(revenue) over (partition by period_grain, period_start) as period_revenue,
        sum(revenue) over (
            partition by period_grain, period_start
            order by revenue desc, customer_id asc
            rows between unbounded preceding and current row
        ) as cumulative_revenue

    from customer_periods
    window period_by_revenue as (
        partition by period_grain, period_start
        order by revenue desc, customer_id asc
    )

),

periods as (

    select
        period_grain,
        period_start,
        period_end,
        is_complete,
        period_customers as customers,
        period_revenue as revenue,
        {% for top_share in top_shares -%}
        -- the top ceil(p x customers) customers
        sum(revenue) filter (
            where revenue_rank <= ceil(cast({{ top_share }} as decimal(9, 6)) * period_customers)
        ) as top_{{ (top_share * 100) | round | int }}_pct_revenue,
        {% endfor -%}
        -- the fewest customers whose revenue reaches the target share of the period's revenue
        min(revenue_rank) filter (
            where cumulative_revenue >= cast({{ target_share }} as decimal(9, 6)) * period_revenue
        ) as customers_for_target_revenue,
        -- Gini: 2 x sum(i x revenue_i) / (n x revenue) - (n + 1) / n, i = 1 ... n from the lowest revenue
        sum((period_customers + 1 - revenue_rank) * revenue) as rank_weighted_revenue

    from ranked
    group by period_grain, period_start, period_end, is_complete, period_customers, period_revenue

),

final as (

    select
        period_grain,
        period_start,
        period_end,
        is_complete,
        customers,
        cast(revenue as decimal(18, 2)) as revenue,
        {% for top_share in top_shares -%}
        {%- set column = 'top_' ~ ((top_share * 100) | round | int) ~ '_pct_revenue' %}
        round({{ safe_divide('cast(' ~ column ~ ' as double)', 'revenue') }}, {{ decimals }}) as {{ column }}_share,
        {% endfor -%}
        cast({{ target_share }} as double) as target_revenue_share,
        customers_for_target_revenue,
        round(
            cast(customers_for_target_revenue as double) / customers, {{ decimals }}
        ) as customer_share_for_target_revenue,
        round(
            2 * {{ safe_divide('cast(rank_weighted_revenue as double)', 'customers * revenue') }}
            - (customers + 1.0) / customers,
            {{ decimals }}
        ) as gini_coefficient

    from periods

)

select * from final
