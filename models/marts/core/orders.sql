{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='customer_id',
        placeholder_column='order_id',
        on_schema_change='fail'
    )
}}
{# Incremental by customer: a run recomputes all orders of the customers with a later order
   version or a later CRM record (macros/incremental.sql), so the sequence of completed orders
   always sees the customer's whole history. #}
-- depends_on: {{ ref('stg_crm__order_versions') }}
with

{% if is_incremental() -%}
customers_to_refresh as (

    {{ customers_with_new_order_versions() }}

    union

    -- a CRM record that arrived later changes is_customer_in_crm
    select customer_id from {{ ref('stg_crm__customers') }}
    where load_id > {{ load_watermark() }}

),

{% endif -%}
orders as (

    select * from {{ ref('stg_crm__orders') }}
    {% if is_incremental() -%}
    where customer_id in (select customers_to_refresh.customer_id from customers_to_refresh)
    {%- endif %}

),

crm_customers as (

    select customer_id from {{ ref('stg_crm__customers') }}

),

completed_sequence as (

    select
        order_id,
        cast(row_number() over (
            partition by customer_id
            order by ordered_at, order_id
        ) as bigint) as completed_order_number

    from orders
    where order_status = 'completed'

),

orders_sequenced as (

    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        orders.order_status,
        orders.order_status = 'completed' as is_completed,
        orders.sales_channel,
        orders.amount,
        orders.discount_amount,
        orders.discount_amount > 0 as is_discounted,
        orders.original_currency,
        completed_sequence.completed_order_number,
        coalesce(completed_sequence.completed_order_number = 1, false) as is_first_completed_order,
        crm_customers.customer_id is not null as is_customer_in_crm,
        orders.load_id

    from orders
    left join completed_sequence using (order_id)
    left join crm_customers using (customer_id)

),

final as (

    select * from orders_sequenced
    {% if is_incremental() -%}
    -- one placeholder row per refreshed customer (order_id null): the replace_keys strategy deletes the
    -- customer's old rows and does not insert it, so an order moved to another customer leaves the first
    {{ union_placeholder_rows('select customers_to_refresh.customer_id from customers_to_refresh', 'customer_id') }}
    {%- endif %}

)

select * from final
