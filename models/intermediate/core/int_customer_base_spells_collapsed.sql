with

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

spells as (

    -- gaps and islands: the order days of one spell are never more than W days apart
    select
        customer_id,
        spell_number,
        min(order_date) as spell_start_date,
        max(order_date) as last_order_date,
        count(*) as order_days,
        cast(sum(completed_orders) as bigint) as completed_orders,
        sum(revenue) as revenue

    from order_days
    group by customer_id, spell_number

),

final as (

    select
        spells.customer_id,
        spells.spell_number,
        spells.spell_number > 1 as is_reactivation,
        spells.spell_start_date,
        spells.last_order_date,
        -- the customer leaves the base W days after the spell's last order
        cast({{ dbt.dateadd('day', var('churn_window_days'), 'spells.last_order_date') }} as date) as lapse_date,
        -- a lapse day after the as-of date is not (yet) a lapse
        (
            cast({{ dbt.dateadd('day', var('churn_window_days'), 'spells.last_order_date') }} as date)
            <= as_of.as_of_date
        ) as is_lapsed,
        spells.order_days,
        spells.completed_orders,
        spells.revenue

    from spells
    cross join as_of

)

select * from final
