with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

counted_orders as (

    -- only completed orders count; orders after the as-of date are ignored by every figure
    select
        orders.customer_id,
        orders.order_date,
        orders.amount

    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date
    where orders.order_status = 'completed'

),

order_days as (

    select
        customer_id,
        order_date,
        count(*) as completed_orders,
        sum(amount) as revenue

    from counted_orders
    group by customer_id, order_date

),

with_previous as (

    select
        *,
        lag(order_date) over (
            partition by customer_id
            order by order_date
        ) as previous_order_date

    from order_days

),

flagged as (

    select
        *,
        {{ dbt.datediff('previous_order_date', 'order_date', 'day') }} as days_since_previous_order,
        previous_order_date is null as is_acquisition,
        coalesce(
            {{ dbt.datediff('previous_order_date', 'order_date', 'day') }} > {{ var('churn_window_days') }},
            false
        ) as is_reactivation

    from with_previous

),

final as (

    select
        customer_id,
        order_date,
        completed_orders,
        revenue,
        previous_order_date,
        days_since_previous_order,
        is_acquisition,
        is_reactivation,
        -- base spells: a new spell starts on acquisition and on each reactivation
        cast(sum(case when is_acquisition or is_reactivation then 1 else 0 end) over (
            partition by customer_id
            order by order_date
            rows between unbounded preceding and current row
        ) as integer) as spell_number,
        min(order_date) over (partition by customer_id) as acquisition_date

    from flagged

)

select * from final
