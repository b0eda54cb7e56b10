-- Each grain's periods add up to the completed orders on or before the as-of date, counted from staging:
-- orders, revenue and acquired customers (one acquisition per customer with a completed order).

with

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

completed_orders as (

    select orders.*

    from {{ ref('stg_crm__orders') }} as orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date
    where orders.order_status = 'completed'

),

expected as (

    select
        count(*) as orders,
        coalesce(sum(amount), 0) as revenue,
        count(distinct customer_id) as gross_new_customers

    from completed_orders

),

per_grain as (

    select
        period_grain,
        sum(orders) as orders,
        sum(revenue) as revenue,
        sum(gross_new_customers) as gross_new_customers

    from {{ ref('customer_audit_figures') }}
    group by period_grain

)

select
    per_grain.period_grain,
    per_grain.orders,
    expected.orders as expected_orders,
    per_grain.revenue,
    expected.revenue as expected_revenue,
    per_grain.gross_new_customers,
    expected.gross_new_customers as expected_gross_new_customers

from per_grain
cross join expected
where per_grain.orders <> expected.orders
    or per_grain.revenue <> expected.revenue
    or per_grain.gross_new_customers <> expected.gross_new_customers
