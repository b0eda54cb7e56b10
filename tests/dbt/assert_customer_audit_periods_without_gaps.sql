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
        lag(calendar_period_end) over periods_in_order as previous_calendar_end,
        row_number() over periods_in_order as period_number,
        row_number() over (
            partition by period_grain
            order by period_start desc
        ) as periods_after

    from periods
    window periods_in_order as (
        partition by period_grain
        order by period_start
    )

)

select with_previous.*

from with_previous
cross join as_of
where
    (
        with_previous.period_number > 1
        and with_previous.period_start <> cast({{ dbt.dateadd('day', 1, 'with_previous.previous_calendar_end') }} as date)
    )
    or (
        with_previous.period_number = 1
        and not as_of.first_order_date between with_previous.period_start and with_previous.period_end
    )
    or (with_previous.periods_after = 1 and with_previous.period_end <> as_of.as_of_date)
    or (with_previous.periods_after > 1 and with_previous.period_end >= as_of.as_of_date)
