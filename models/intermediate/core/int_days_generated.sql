-- The MetricFlow time spine (models/semantic): one row per calendar day of every reporting year, from
-- 1 January of the first completed order's year to 31 December of the as-of date's year.
with

years as (

    select
        min(period_start) as first_day,
        max(calendar_period_end) as last_day

    from {{ ref('int_reporting_periods_generated') }}
    where period_grain = 'year'

),

days as (

    select {{ date_series('years.first_day', 'years.last_day', 'day') }} as date_day

    from years

),

final as (

    select date_day from days

)

select * from final
