-- The periods of each grain follow on from each other: a period starts the day after the previous
-- period of its grain ends, and opens with the customers that period closed with (customers_start =
-- the previous customers_end). Returns the periods that do not follow on.

with

figures as (

    select * from {{ ref('customer_audit_figures') }}

),

with_previous as (

    select
        period_grain,
        period_start,
        customers_start,
        lag(period_end) over periods_in_order as previous_period_end,
        lag(customers_end) over periods_in_order as previous_customers_end

    from figures
    window periods_in_order as (
        partition by period_grain
        order by period_start
    )

),

final as (

    select * from with_previous
    where
        previous_period_end is not null
        and (
            period_start <> cast({{ dbt.dateadd('day', 1, 'previous_period_end') }} as date)
            or customers_start <> previous_customers_end
        )

)

select * from final
