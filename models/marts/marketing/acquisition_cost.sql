{#- Marketing spend, new customers, CAC, first-months revenue and payback per acquisition month and
    channel: definitions in docs/personas_and_value.md. -#}
{%- set revenue_months = var('acquisition_revenue_months') %}
with

marketing_spend as (

    select * from {{ ref('stg_crm__marketing_spend') }}

),

customers as (

    select * from {{ ref('customers') }}
    where is_customer

),

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select
        as_of_date,
        cast(date_trunc('month', as_of_date) as date) as as_of_month

    from {{ ref('int_as_of_date_resolved') }}

),

spend as (

    -- spend of the months up to the as-of date's month, like every other figure
    select
        marketing_spend.spend_month as acquisition_month,
        marketing_spend.acquisition_channel,
        marketing_spend.spend_amount

    from marketing_spend
    cross join as_of
    where marketing_spend.spend_month <= as_of.as_of_month

),

new_customers as (

    -- acquired in the month of the first completed order; 'unknown' channel kept as such
    select
        customer_id,
        cohort_month as acquisition_month,
        acquisition_channel

    from customers

),

cohort_months as (

    -- revenue of the new customers per month since their acquisition month
    select
        new_customers.acquisition_month,
        new_customers.acquisition_channel,
        {{ dbt.datediff('new_customers.acquisition_month', 'order_days.order_date', 'month') }}
            as months_since_acquisition,
        sum(order_days.revenue) as revenue

    from order_days
    inner join new_customers using (customer_id)
    group by all

),

new_customers_by_channel as (

    select
        acquisition_month,
        acquisition_channel,
        count(*) as new_customers

    from new_customers
    group by all

),

channel_rows as (

    -- one row per month and channel with spend or new customers (a full outer join: spend on a
    -- channel that won nobody, and customers of a channel without spend, are both kept)
    select
        coalesce(spend_by_channel.acquisition_month, customers_by_channel.acquisition_month)
            as acquisition_month,
        coalesce(spend_by_channel.acquisition_channel, customers_by_channel.acquisition_channel)
            as acquisition_channel,
        spend_by_channel.acquisition_month is not null as has_spend,
        coalesce(spend_by_channel.spend_amount, 0) as spend_amount,
        coalesce(customers_by_channel.new_customers, 0) as new_customers

    from spend as spend_by_channel
    full outer join new_customers_by_channel as customers_by_channel
        on spend_by_channel.acquisition_month = customers_by_channel.acquisition_month
        and spend_by_channel.acquisition_channel = customers_by_channel.acquisition_channel

),

month_channel_rows as (

    select * from channel_rows
    union all
    -- 'all': every channel of the month together (blended CAC)
    select
        acquisition_month,
        'all' as acquisition_channel,
        bool_or(has_spend) as has_spend,
        sum(spend_amount) as spend_amount,
        cast(sum(new_customers) as bigint) as new_customers

    from channel_rows
    group by acquisition_month

),

cohort_revenue as (

    select * from cohort_months
    union all
    select acquisition_month, 'all' as acquisition_channel, months_since_acquisition, sum(revenue)
    from cohort_months
    group by acquisition_month, months_since_acquisition

),

cumulative_revenue as (

    select
        cohort_revenue.*,
        sum(cohort_revenue.revenue) over (
            partition by cohort_revenue.acquisition_month, cohort_revenue.acquisition_channel
            order by cohort_revenue.months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_revenue

    from cohort_revenue

),

with_cac as (

    select
        month_channel_rows.*,
        -- no CAC without a spend record (cost unknown) or without new customers
        case
            when month_channel_rows.has_spend
                then {{ safe_divide('month_channel_rows.spend_amount', 'month_channel_rows.new_customers') }}
        end as cac_exact,
        -- the last day of the first months (months 0 ... acquisition_revenue_months - 1)
        {{ add_days('cast(' ~ add_months('month_channel_rows.acquisition_month', revenue_months) ~ ' as date)', -1) }}
            as first_months_end_date

    from month_channel_rows

),

cohort_figures as (

    select
        with_cac.acquisition_month,
        with_cac.acquisition_channel,
        coalesce(
            sum(cumulative_revenue.revenue) filter (
                where cumulative_revenue.months_since_acquisition < {{ revenue_months }}
            ),
            0
        ) as first_months_revenue,
        -- the first month (1 = the acquisition month) in which the cumulative revenue per new
        -- customer reaches CAC, i.e. the cohort's cumulative revenue reaches the spend
        min(cumulative_revenue.months_since_acquisition) filter (
            where with_cac.cac_exact is not null and cumulative_revenue.cumulative_revenue >= with_cac.spend_amount
        ) + 1 as payback_months

    from with_cac
    left join cumulative_revenue
        on with_cac.acquisition_month = cumulative_revenue.acquisition_month
        and with_cac.acquisition_channel = cumulative_revenue.acquisition_channel
    group by all

),

final as (

    select
        with_cac.acquisition_month,
        with_cac.acquisition_channel,
        with_cac.has_spend,
        cast(with_cac.spend_amount as decimal(18, 2)) as spend_amount,
        with_cac.new_customers,
        {{ round_money('with_cac.cac_exact') }} as cac,
        with_cac.has_spend and with_cac.new_customers = 0 as is_spend_without_new_customers,
        not with_cac.has_spend and with_cac.new_customers > 0 as is_new_customers_without_spend,
        -- the first months are complete once their last day is on or before the as-of date
        with_cac.first_months_end_date <= as_of.as_of_date as is_first_months_complete,
        case
            when with_cac.first_months_end_date <= as_of.as_of_date
                then {{ round_money(safe_divide('cohort_figures.first_months_revenue', 'with_cac.new_customers')) }}
        end as first_{{ revenue_months }}_months_revenue_per_new_customer,
        cohort_figures.payback_months,
        as_of.as_of_date

    from with_cac
    cross join as_of
    inner join cohort_figures
        on with_cac.acquisition_month = cohort_figures.acquisition_month
        and with_cac.acquisition_channel = cohort_figures.acquisition_channel

)

select * from final
