{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='customer_id',
        placeholder_column='load_id',
        on_schema_change='fail'
    )
}}
{# Per customer, the order figures of marts.customers that only new orders change (what moves with
   the as-of date alone, recency, tenure and the base, the mart computes). Incremental by customer
   (macros/incremental.sql): a run recomputes the customers with a later order version and those
   whose orders the as-of date crossed. #}
-- depends_on: {{ ref('stg_crm__order_versions') }}
with

{% if is_incremental() -%}
customers_to_refresh as (

    {{ customers_with_new_order_versions() }}

    union

    {{ keys_crossed_by_as_of_date(ref('stg_crm__orders'), 'customer_id', 'order_date', 'latest_order_date') }}

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

orders_to_date as (

    -- orders after the as-of date do not count; completed and discounted as marts.orders has them
    select
        orders.customer_id,
        orders.order_date,
        orders.order_status,
        orders.order_status = 'completed' as is_completed,
        orders.discount_amount > 0 as is_discounted,
        orders.amount,
        orders.load_id

    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date

),

customer_orders as (

    select
        customer_id,
        min(order_date) filter (where is_completed) as first_order_date,
        max(order_date) filter (where is_completed) as last_order_date,
        count(*) filter (where is_completed) as completed_orders,
        count(*) filter (where is_completed and is_discounted) as discounted_orders,
        count(*) filter (where order_status = 'cancelled') as cancelled_orders,
        count(*) filter (where order_status = 'refunded') as refunded_orders,
        coalesce(sum(amount) filter (where is_completed), 0) as revenue,
        max(order_date) as latest_order_date,
        max(load_id) as load_id

    from orders_to_date
    group by customer_id

),

final as (

    select * from customer_orders
    {% if is_incremental() -%}
    -- one placeholder row per refreshed customer (load_id null): replace_keys deletes the customer's old
    -- row, so a customer left without orders up to the as-of date disappears
    {{ union_placeholder_rows('select customers_to_refresh.customer_id from customers_to_refresh', 'customer_id') }}
    {%- endif %}

)

select * from final
