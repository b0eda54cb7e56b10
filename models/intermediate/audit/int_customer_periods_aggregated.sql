with

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

customer_periods as (

    {% for grain in var('audit_period_grains') -%}
    select
        customer_id,
        '{{ grain }}' as period_grain,
        cast({{ dbt.date_trunc(grain, 'order_date') }} as date) as period_start,
        cast({{ dbt.date_trunc(grain, 'acquisition_date') }} as date) as acquisition_period_start,
        acquisition_date,
        count(*) as order_days,
        cast(sum(completed_orders) as bigint) as completed_orders,
        sum(revenue) as revenue

    from order_days
    group by all
    {% if not loop.last %}
    union all

    {% endif -%}
    {% endfor %}
),

final as (

    select
        customer_id,
        period_grain,
        period_start,
        acquisition_date,
        -- acquired in the period (new) or before it (existing)
        acquisition_period_start = period_start as is_new_customer,
        order_days,
        completed_orders,
        revenue

    from customer_periods

)

select * from final
