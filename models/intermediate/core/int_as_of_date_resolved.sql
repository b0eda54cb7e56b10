{#- The as-of date of every figure: var as_of_date when set, else the last completed-order date. -#}
{%- set as_of_date_var = (var('as_of_date') or '') | string | trim -%}

with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

completed_orders as (

    select order_date from orders
    where order_status = 'completed'

),

as_of as (

    select
        {% if as_of_date_var -%}
        cast('{{ as_of_date_var }}' as date) as as_of_date,
        true as is_as_of_date_set,
        {%- else -%}
        max(order_date) as as_of_date,
        false as is_as_of_date_set,
        {%- endif %}
        max(order_date) as last_completed_order_date

    from completed_orders

),

final as (

    select
        as_of.as_of_date,
        min(completed_orders.order_date) as first_order_date,
        as_of.is_as_of_date_set,
        as_of.last_completed_order_date

    from as_of
    left join completed_orders
        on as_of.as_of_date >= completed_orders.order_date
    group by all

)

select * from final
