-- The 'all' rows of acquisition_cohorts are the totals of the channel rows, and every cohort's total
-- size equals the customers acquired in its month (customer_audit_figures, month grain).

with

cohorts as (

    select * from {{ ref('acquisition_cohorts') }}

),

channel_totals as (

    select
        cohort_month,
        months_since_acquisition,
        sum(cohort_size) as cohort_size,
        sum(active_customers) as active_customers,
        sum(revenue) as revenue

    from cohorts
    where acquisition_channel <> 'all'
    group by cohort_month, months_since_acquisition

),

all_rows as (

    select * from cohorts
    where acquisition_channel = 'all'

),

acquired_per_month as (

    select
        period_start as cohort_month,
        gross_new_customers

    from {{ ref('customer_audit_figures') }}
    where period_grain = 'month' and gross_new_customers > 0

)

select
    coalesce(all_rows.cohort_month, channel_totals.cohort_month, acquired_per_month.cohort_month) as cohort_month,
    all_rows.months_since_acquisition,
    all_rows.cohort_size,
    channel_totals.cohort_size as channel_cohort_size,
    acquired_per_month.gross_new_customers

from all_rows
full outer join channel_totals
    on all_rows.cohort_month = channel_totals.cohort_month
    and all_rows.months_since_acquisition = channel_totals.months_since_acquisition
full outer join acquired_per_month
    on coalesce(all_rows.cohort_month, channel_totals.cohort_month) = acquired_per_month.cohort_month
where all_rows.cohort_month is null
    or channel_totals.cohort_month is null
    or all_rows.cohort_size <> channel_totals.cohort_size
    or all_rows.active_customers <> channel_totals.active_customers
    or all_rows.revenue <> channel_totals.revenue
    or acquired_per_month.cohort_month is null
    or all_rows.cohort_size <> acquired_per_month.gross_new_customers
