with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

customer_orders as (

    -- order figures up to the as-of date, per customer (incremental: only customers with new orders)
    select * from {{ ref('int_customer_orders_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

base_spells as (

    select * from {{ ref('int_customer_base_spells_collapsed') }}

),

customer_spells as (

    select
        customer_id,
        count(*) as base_spells,
        max(spell_start_date) as latest_spell_start_date

    from base_spells
    group by customer_id

),

all_customer_ids as (

    -- CRM records and customers known only from their orders (kept so that revenue reconciles)
    select customer_id from crm_customers
    union
    select customer_id from customer_orders

),

joined as (

    select
        all_customer_ids.customer_id,
        crm_customers.customer_id is not null as is_in_crm,
        crm_customers.created_date,
        crm_customers.country_code,
        coalesce(crm_customers.acquisition_channel, 'unknown') as acquisition_channel,
        crm_customers.referred_by_customer_id,
        customer_orders.first_order_date,
        cast({{ dbt.date_trunc('month', 'customer_orders.first_order_date') }} as date) as cohort_month,
        customer_orders.last_order_date,
        coalesce(customer_orders.completed_orders, 0) as completed_orders,
        coalesce(customer_orders.discounted_orders, 0) as discounted_orders,
        coalesce(customer_orders.cancelled_orders, 0) as cancelled_orders,
        coalesce(customer_orders.refunded_orders, 0) as refunded_orders,
        coalesce(customer_orders.revenue, 0) as revenue,
        coalesce(customer_orders.completed_orders, 0) > 0 as is_customer,
        customer_spells.base_spells,
        customer_spells.latest_spell_start_date,
        as_of.as_of_date

    from all_customer_ids
    cross join as_of
    left join crm_customers using (customer_id)
    left join customer_orders using (customer_id)
    left join customer_spells using (customer_id)

),

final as (

    select
        customer_id,
        is_in_crm,
        created_date,
        country_code,
        acquisition_channel,
        referred_by_customer_id,
        first_order_date,
        cohort_month,
        last_order_date,
        completed_orders,
        discounted_orders,
        cancelled_orders,
        refunded_orders,
        revenue,
        is_customer,
        as_of_date,
        {{ dbt.datediff('first_order_date', 'as_of_date', 'day') }} as tenure_days,
        {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as recency_days,
        -- in the base: a completed order on one of the W days ending on the as-of date
        coalesce(
            {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} < {{ var('churn_window_days') }},
            false
        ) as is_in_base,
        case
            when not is_customer then 'prospect'
            when {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} < {{ var('churn_window_days') }}
                then 'in_base'
            else 'lapsed'
        end as customer_status,
        cast({{ dbt.dateadd('day', var('churn_window_days'), 'last_order_date') }} as date) as lapse_date,
        latest_spell_start_date,
        coalesce(base_spells - 1, 0) as reactivations,
        {{ round_money(safe_divide('revenue', 'completed_orders')) }} as average_order_value

    from joined

)

select * from final
