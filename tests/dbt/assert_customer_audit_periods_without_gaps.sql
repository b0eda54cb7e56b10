-- Periods run without gaps: each grain starts at the first completed order's period, ends at the
-- as-of date's period, and each period starts the day after the previous one's calendar end.

with

periods as (

    select * from {{ ref('int_reporting_periods_generated') }}

),

as_of as (

    select * from {{ ref('int_as_of_date_resolved') }}

),

with_previous as (

    select
        period_grain,
        period_start,
        period_end,
        lag(calendar_period_end) over (partition by period_grain order by period_start) as previous_calendar_end,
        row_number() over (partition by period_grain order by period_start) as period_number,
        row_number() over (partition by period_grain order by period_start desc) as periods_after

    from periods

)

select with_previous.*

from with_previous
cross join as_of
where (period_number > 1 and period_start <> cast({{ dbt.dateadd('day', 1, 'previous_calendar_end') }} as date))
    or (period_number = 1 and not as_of.first_order_date between period_start and period_end)
    or (periods_after = 1 and period_end <> as_of.as_of_date)
    or (periods_after > 1 and period_end >= as_of.as_of_date)
