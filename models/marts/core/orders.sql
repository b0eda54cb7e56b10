with

orders as (

    select * from {{ ref('stg_crm__orders') }}

),

crm_customers as (

    select customer_id from {{ ref('stg_crm__customers') }}

),

completed_sequence as (

    select
        order_id,
        row_number() over (
            partition by customer_id
            order by ordered_at, order_id
        ) as completed_order_number

    from orders
    where order_status = 'completed'

),

final as (

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
        crm_customers.customer_id is not null as is_customer_in_crm

    from orders
    left join completed_sequence using (order_id)
    left join crm_customers using (customer_id)

)

select * from final
