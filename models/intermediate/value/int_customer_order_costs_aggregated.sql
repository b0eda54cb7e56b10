{#- Per customer and order month, completed orders up to the as-of date: revenue, cost of goods and discounts
    (docs/customer_value.md, customer profitability). The cost of goods of an order is its
    cost_amount when the export has one, else amount x (1 - var gross_margin_rate) rounded to the cent. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='customer_id',
        placeholder_column='order_month',
        on_schema_change='fail'
    )
}}
{# Incremental by customer, like int_customer_order_days_aggregated: a run recomputes every month of
   the customers with a later order version and of those whose completed orders the as-of date
   crossed (macros/incremental.sql). #}
-- depends_on: {{ ref('stg_crm__order_versions') }}
with

{% if is_incremental() -%}
customers_to_refresh as (

    {{ customers_with_new_order_versions() }}

    union

    {{ customers_crossed_by_as_of_date('last_order_date') }}

),

{% endif -%}
orders as (

    select * from {{ ref('stg_crm__orders') }}
    {% if is_incremental() -%}
    where customer_id in (select customers_to_refresh.customer_id from customers_to_refresh)
    {%- endif %}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

completed_orders as (

    select
        orders.customer_id,
        orders.order_date,
        cast(date_trunc('month', orders.order_date) as date) as order_month,
        orders.amount,
        orders.discount_amount,
        orders.cost_amount,
        -- rounded to the cent per order, so that every sum of it is exact (and the same in any order)
        coalesce(
            orders.cost_amount,
            {{ round_money('orders.amount * (1 - ' ~ var('gross_margin_rate') ~ ')') }}
        ) as cost_of_goods,
        orders.load_id

    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date
    where orders.order_status = 'completed'

),

customer_months as (

    select
        customer_id,
        order_month,
        count(*) as completed_orders,
        count(cost_amount) as orders_with_cost,
        sum(amount) as revenue,
        sum(cost_of_goods) as cost_of_goods,
        sum(discount_amount) as discounts,
        max(order_date) as last_order_date,
        max(load_id) as load_id

    from completed_orders
    group by customer_id, order_month

),

final as (

    select * from customer_months
    {% if is_incremental() -%}
    -- one placeholder row per refreshed customer (order_month null), see int_customer_order_days_aggregated
    {{ union_placeholder_rows('select customers_to_refresh.customer_id from customers_to_refresh', 'customer_id') }}
    {%- endif %}

)

select * from final
