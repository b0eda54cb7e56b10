with

customer_months as (

    select * from {{ ref('int_customer_periods_aggregated') }}
    where period_grain = 'month'

),

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

customer_activity as (

    select
        customer_months.customer_id,
        cast({{ dbt.date_trunc('month', 'customer_months.acquisition_date') }} as date) as cohort_month,
        coalesce(crm_customers.acquisition_channel, 'unknown') as acquisition_channel,
        {{ dbt.datediff(
            dbt.date_trunc('month', 'customer_months.acquisition_date'), 'customer_months.period_start', 'month'
        ) }} as months_since_acquisition,
        customer_months.revenue

    from customer_months
    left join crm_customers using (customer_id)

),

cohort_activity as (

    -- per channel, and 'all' rows that total the channels
    select
        cohort_month,
        case when grouping(acquisition_channel) = 1 then 'all' else acquisition_channel end
            as acquisition_channel,
        months_since_acquisition,
        count(*) as active_customers,
        sum(revenue) as revenue

    from customer_activity
    group by grouping sets (  -- noqa: PRS
        (cohort_month, acquisition_channel, months_since_acquisition),
        (cohort_month, months_since_acquisition)
    )

),

cohorts as (

    -- every cohort customer has a completed order in the acquisition month
    select
        cohort_month,
        acquisition_channel,
        active_customers as cohort_size

    from cohort_activity
    where months_since_acquisition = 0

),

cohort_months as (

    -- months 0 ... the as-of month for each cohort, whether anyone bought or not
    select
        cohorts.cohort_month,
        cohorts.acquisition_channel,
        cohorts.cohort_size,
        {{ integer_series(0, dbt.datediff('cohorts.cohort_month', 'as_of.as_of_date', 'month')) }}
            as months_since_acquisition,
        as_of.as_of_date

    from cohorts
    cross join as_of

),

joined as (

    select
        cohort_months.cohort_month,
        cohort_months.acquisition_channel,
        cohort_months.months_since_acquisition,
        cast({{ dbt.dateadd('month', 'cohort_months.months_since_acquisition', 'cohort_months.cohort_month') }} as date)
            as activity_month,
        cohort_months.cohort_size,
        coalesce(cohort_activity.active_customers, 0) as active_customers,
        coalesce(cohort_activity.revenue, 0) as revenue,
        cohort_months.as_of_date

    from cohort_months
    left join cohort_activity using (cohort_month, acquisition_channel, months_since_acquisition)

),

cumulated as (

    select
        *,
        sum(revenue) over (
            partition by cohort_month, acquisition_channel
            order by months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_revenue

    from joined

),

final as (

    select
        cohort_month,
        acquisition_channel,
        months_since_acquisition,
        activity_month,
        cohort_size,
        active_customers,
        {{ safe_divide('active_customers', 'cohort_size') }} as retention_rate,
        revenue,
        cumulative_revenue,
        {{ round_money(safe_divide('cumulative_revenue', 'cohort_size')) }}
            as cumulative_revenue_per_customer,
        -- false for the as-of month while it is still running
        cast({{ dbt.last_day('activity_month', 'month') }} as date) <= as_of_date as is_complete

    from cumulated

)

select * from final
