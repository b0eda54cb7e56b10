{#- Per customer and order month, completed orders up to the as-of date: revenue, cost of goods and discounts
    (docs/customer_value.md, customer profitability). The cost of goods of an order is its
    cost_amount when the export has one, else amount x (1 - var gross_margin_rate) rounded to the cent. -#}
with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

completed_orders as (

    select
        orders.customer_id,
        cast(date_trunc('month', orders.order_date) as date) as order_month,
        orders.amount,
        orders.discount_amount,
        orders.cost_amount,
        -- rounded to the cent per order, so that every sum of it is exact (and the same in any order)
        coalesce(
            orders.cost_amount,
            {{ round_money('orders.amount * (1 - ' ~ var('gross_margin_rate') ~ ')') }}
        ) as cost_of_goods

    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date
    where orders.order_status = 'completed'

),

final as (

    select
        customer_id,
        order_month,
        count(*) as completed_orders,
        count(cost_amount) as orders_with_cost,
        sum(amount) as revenue,
        sum(cost_of_goods) as cost_of_goods,
        sum(discount_amount) as discounts

    from completed_orders
    group by customer_id, order_month

)

select * from final
