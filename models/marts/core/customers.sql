with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

orders as (

    select * from {{ ref('orders') }}

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
        coalesce(sum(amount) filter (where is_completed), 0) as revenue

    from orders
    group by customer_id

),

all_customer_ids as (

    -- CRM records and customers known only from their orders (kept so that revenue reconciles)
    select customer_id from crm_customers
    union
    select customer_id from customer_orders

),

final as (

    select
        all_customer_ids.customer_id,
        crm_customers.customer_id is not null as is_in_crm,
        crm_customers.created_date,
        crm_customers.country_code,
        coalesce(crm_customers.acquisition_channel, 'unknown') as acquisition_channel,
        crm_customers.referred_by_customer_id,
        customer_orders.first_order_date,
        cast(date_trunc('month', customer_orders.first_order_date) as date) as cohort_month,
        customer_orders.last_order_date,
        coalesce(customer_orders.completed_orders, 0) as completed_orders,
        coalesce(customer_orders.discounted_orders, 0) as discounted_orders,
        coalesce(customer_orders.cancelled_orders, 0) as cancelled_orders,
        coalesce(customer_orders.refunded_orders, 0) as refunded_orders,
        coalesce(customer_orders.revenue, 0) as revenue,
        coalesce(customer_orders.completed_orders, 0) > 0 as is_customer

    from all_customer_ids
    left join crm_customers using (customer_id)
    left join customer_orders using (customer_id)

)

select * from final
