with

as_of as (

    select * from {{ ref('int_as_of_date_resolved') }}

),

period_starts as (

    {{ period_spine(reporting_period_grains(), 'first_order_date', 'as_of_date', 'as_of') }}

),

with_calendar_ends as (

    select
        period_starts.period_grain,
        period_starts.period_start,
        case period_starts.period_grain
            {%- for grain in reporting_period_grains() %}
            when '{{ grain }}' then cast({{ dbt.last_day('period_starts.period_start', grain) }} as date)
            {%- endfor %}
        end as calendar_period_end,
        as_of.as_of_date

    from period_starts
    cross join as_of

),

final as (

    select
        period_grain,
        period_start,
        -- e: the last day the figures cover (the as-of date for the last, incomplete period)
        least(calendar_period_end, as_of_date) as period_end,
        calendar_period_end,
        calendar_period_end <= as_of_date as is_complete,
        -- s - 1: the day customers_start is counted on
        cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) as day_before_period_start,
        cast({{ dbt.datediff('period_start', 'least(calendar_period_end, as_of_date)', 'day') }} + 1 as bigint) as period_days,
        as_of_date

    from with_calendar_ends

)

select * from final
