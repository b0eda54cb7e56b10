with

crm_customers as (

    select * from {{ ref('stg_crm__customers') }}

),

order_days as (

    -- completed-order days up to the as-of date
    select * from {{ ref('int_customer_order_days_aggregated') }}

),

buyers as (

    select distinct customer_id from order_days

),

referred as (

    select
        crm_customers.referred_by_customer_id as customer_id,
        crm_customers.customer_id as referred_customer_id,
        buyers.customer_id is not null as has_bought

    from crm_customers
    left join buyers using (customer_id)
    where crm_customers.referred_by_customer_id is not null
        -- a record naming itself as its referrer is not a referral
        and crm_customers.referred_by_customer_id <> crm_customers.customer_id

),

final as (

    select
        customer_id,
        count(*) as referred_customers,
        count(*) filter (where has_bought) as referred_buyers

    from referred
    group by customer_id

)

select * from final
