{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='customer_id',
        placeholder_column='period_grain',
        on_schema_change='fail'
    )
}}
{# Incremental by customer, like int_customer_order_days_aggregated: a run recomputes every period
   of the customers whose order days changed (macros/incremental.sql). #}
-- depends_on: {{ ref('stg_crm__order_versions') }}
-- depends_on: {{ ref('stg_crm__orders') }}
-- depends_on: {{ ref('int_as_of_date_resolved') }}
with

{% if is_incremental() -%}
customers_to_refresh as (

    {{ customers_with_new_order_versions() }}

    union

    {{ customers_crossed_by_as_of_date('last_order_date') }}

),

{% endif -%}
order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}
    {% if is_incremental() -%}
    where customer_id in (select customers_to_refresh.customer_id from customers_to_refresh)
    {%- endif %}

),

customer_periods as (

    {% for grain in reporting_period_grains() -%}
    select
        customer_id,
        '{{ grain }}' as period_grain,
        cast({{ dbt.date_trunc(grain, 'order_date') }} as date) as period_start,
        cast({{ dbt.date_trunc(grain, 'acquisition_date') }} as date) as acquisition_period_start,
        acquisition_date,
        count(*) as order_days,
        cast(sum(completed_orders) as bigint) as completed_orders,
        sum(revenue) as revenue,
        max(order_date) as last_order_date,
        max(load_id) as load_id

    from order_days
    group by all
    {% if not loop.last %}
    union all

    {% endif -%}
    {% endfor %}
),

customer_periods_classified as (

    select
        customer_id,
        period_grain,
        period_start,
        acquisition_date,
        -- acquired in the period (new) or before it (existing)
        acquisition_period_start = period_start as is_new_customer,
        order_days,
        completed_orders,
        revenue,
        last_order_date,
        load_id

    from customer_periods

),

final as (

    select * from customer_periods_classified
    {% if is_incremental() -%}
    -- one placeholder row per refreshed customer (period_grain null), see int_customer_order_days_aggregated
    {{ union_placeholder_rows('select customers_to_refresh.customer_id from customers_to_refresh', 'customer_id') }}
    {%- endif %}

)

select * from final
