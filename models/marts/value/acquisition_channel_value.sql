{#- CLV against CAC per acquisition channel over every acquisition month, and for all channels
    together (docs/customer_value.md): the one definition the report and the run summary show. From
    the monthly channel rows of customer_equity (its 'all' rows repeat them, and its customer_equity
    column is cumulative, so neither is summed); CAC and CLV / CAC over the months that have a CAC. -#}
with

channel_months as (

    select * from {{ ref('customer_equity') }}
    where acquisition_channel <> 'all'

),

cohorts as (

    select
        acquisition_channel,
        new_customers,
        cohort_clv,
        case when cac is not null then new_customers end as customers_with_cac,
        case when cac is not null then cohort_clv end as clv_with_cac,
        -- what the new customers of the month cost: CAC x new customers (null without CAC)
        cac * new_customers as cac_spend,
        as_of_date

    from channel_months

),

cohorts_and_all as (

    select * from cohorts

    union all

    select
        'all' as acquisition_channel,
        new_customers,
        cohort_clv,
        customers_with_cac,
        clv_with_cac,
        cac_spend,
        as_of_date

    from cohorts

),

by_channel as (

    select
        acquisition_channel,
        cast(sum(new_customers) as bigint) as new_customers,
        sum(cohort_clv) as customer_equity,
        cast(coalesce(sum(customers_with_cac), 0) as bigint) as customers_with_cac,
        sum(clv_with_cac) as clv_with_cac,
        sum(cac_spend) as cac_spend,
        max(as_of_date) as as_of_date

    from cohorts_and_all
    group by acquisition_channel

),

final as (

    select
        acquisition_channel,
        new_customers,
        cast(customer_equity as decimal(18, 2)) as customer_equity,
        {{ round_money(safe_divide('customer_equity', 'new_customers')) }} as mean_clv,
        customers_with_cac,
        {{ round_money(safe_divide('clv_with_cac', 'customers_with_cac')) }} as mean_clv_with_cac,
        {{ round_money(safe_divide('cac_spend', 'customers_with_cac')) }} as cac,
        cast(round({{ safe_divide('clv_with_cac', 'cac_spend') }}, 2) as double) as clv_to_cac,
        as_of_date

    from by_channel

)

select * from final
