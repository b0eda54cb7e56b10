{#- Customer-based valuation per acquisition month and channel (docs/customer_value.md): the CLV on
    the as-of date of the customers acquired that month, the customer equity of everyone acquired up
    to then, the new customers' mean CLV against their CAC (acquisition_cost) and the months their
    cumulative margin takes to recover it. 'all' = every channel of the month. -#}
with

customers as (

    select * from {{ ref('customers') }}
    where is_customer

),

lifetime_values as (

    select * from {{ ref('customer_lifetime_value') }}

),

acquisition_cost as (

    select * from {{ ref('acquisition_cost') }}

),

order_costs as (

    select * from {{ ref('int_customer_order_costs_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

margin as (

    -- the margin rate of customer_lifetime_value (one company-wide rate)
    select max(margin_rate) as margin_rate from lifetime_values

),

new_customers as (

    select
        customers.customer_id,
        customers.cohort_month as acquisition_month,
        customers.acquisition_channel,
        lifetime_values.clv

    from customers
    inner join lifetime_values using (customer_id)

),

by_channel as (

    select
        acquisition_month,
        acquisition_channel,
        count(*) as new_customers,
        sum(clv) as cohort_clv

    from new_customers
    group by all

    union all

    select
        acquisition_month,
        'all' as acquisition_channel,
        count(*) as new_customers,
        sum(clv) as cohort_clv

    from new_customers
    group by acquisition_month

),

cohort_margin as (

    -- gross margin (revenue - cost of goods) of each cohort per month since its acquisition month
    select
        new_customers.acquisition_month,
        new_customers.acquisition_channel,
        {{ dbt.datediff('new_customers.acquisition_month', 'order_costs.order_month', 'month') }}
            as months_since_acquisition,
        sum(order_costs.revenue - order_costs.cost_of_goods) as gross_margin

    from order_costs
    inner join new_customers using (customer_id)
    group by all

),

cohort_margin_all as (

    select * from cohort_margin
    union all
    select acquisition_month, 'all' as acquisition_channel, months_since_acquisition, sum(gross_margin)
    from cohort_margin
    group by acquisition_month, months_since_acquisition

),

cumulative_margin as (

    select
        *,
        sum(gross_margin) over (
            partition by acquisition_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_gross_margin

    from cohort_margin_all

),

with_cac as (

    select
        by_channel.*,
        acquisition_cost.cac,
        acquisition_cost.spend_amount

    from by_channel
    left join acquisition_cost
        on by_channel.acquisition_month = acquisition_cost.acquisition_month
        and by_channel.acquisition_channel = acquisition_cost.acquisition_channel

),

payback as (

    -- the first month (1 = the acquisition month) in which the cohort's cumulative gross margin
    -- reaches its spend: the cumulative margin per new customer reaches CAC
    select
        with_cac.acquisition_month,
        with_cac.acquisition_channel,
        min(cumulative_margin.months_since_acquisition) filter (
            where cumulative_margin.cumulative_gross_margin >= with_cac.cac * with_cac.new_customers
        ) + 1 as margin_payback_months

    from with_cac
    left join cumulative_margin
        on with_cac.acquisition_month = cumulative_margin.acquisition_month
        and with_cac.acquisition_channel = cumulative_margin.acquisition_channel
    where with_cac.cac is not null
    group by all

),

final as (

    select
        with_cac.acquisition_month,
        with_cac.acquisition_channel,
        with_cac.new_customers,
        cast(with_cac.cohort_clv as decimal(18, 2)) as cohort_clv,
        -- the customers acquired up to and including this month, valued on the as-of date
        cast(sum(with_cac.cohort_clv) over (
            partition by with_cac.acquisition_channel
            order by with_cac.acquisition_month
            rows between unbounded preceding and current row
        ) as decimal(18, 2)) as customer_equity,
        {{ round_money(safe_divide('with_cac.cohort_clv', 'with_cac.new_customers')) }} as mean_clv,
        with_cac.cac,
        round(
            {{ safe_divide('with_cac.cohort_clv', 'with_cac.new_customers') }}
            / nullif(with_cac.cac, 0), 2
        ) as clv_to_cac,
        payback.margin_payback_months,
        margin.margin_rate,
        cast({{ var('clv_annual_discount_rate') }} as double) as annual_discount_rate,
        {{ var('clv_horizon_months') }} as horizon_months,
        as_of.as_of_date

    from with_cac
    cross join as_of
    cross join margin
    left join payback
        on with_cac.acquisition_month = payback.acquisition_month
        and with_cac.acquisition_channel = payback.acquisition_channel

)

select * from final
