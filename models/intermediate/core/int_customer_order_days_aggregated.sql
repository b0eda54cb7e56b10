{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='customer_id',
        placeholder_column='order_date',
        on_schema_change='fail'
    )
}}
{# Incremental by customer: a run recomputes the whole history of every customer whose orders
   changed (macros/incremental.sql), so the first-order and previous-order logic below always
   sees all of a customer's orders. #}
-- depends_on: {{ ref('stg_crm__order_versions') }}
with

{% if is_incremental() -%}
customers_to_refresh as (

    {{ customers_with_new_order_versions() }}

    union

    {{ customers_crossed_by_as_of_date('order_date') }}

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

counted_orders as (

    -- only completed orders count; orders after the as-of date are ignored by every figure
    select
        orders.customer_id,
        orders.order_date,
        orders.amount,
        orders.load_id

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
        sum(amount) as revenue,
        max(load_id) as load_id

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

with_spells as (

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
        min(order_date) over (partition by customer_id) as acquisition_date,
        load_id

    from flagged

),

final as (

    select * from with_spells
    {% if is_incremental() -%}
    -- one placeholder row per refreshed customer (order_date null): the replace_keys strategy deletes
    -- the customer's old rows and does not insert it, so a customer left without orders disappears
    {{ union_placeholder_rows('select customers_to_refresh.customer_id from customers_to_refresh', 'customer_id') }}
    {%- endif %}

)

select * from final
