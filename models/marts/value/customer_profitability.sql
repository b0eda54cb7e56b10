{#- Profit to date per customer with a completed order (docs/customer_value.md): revenue - cost of
    goods - service cost - acquisition cost. -#}
with

customers as (

    select * from {{ ref('customers') }}
    where is_customer

),

order_costs as (

    select * from {{ ref('int_customer_order_costs_aggregated') }}

),

interactions as (

    select * from {{ ref('int_customer_interactions_aggregated') }}

),

acquisition_cost as (

    select * from {{ ref('acquisition_cost') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

costs_by_customer as (

    select
        customer_id,
        cast(sum(completed_orders) as bigint) as completed_orders,
        cast(sum(orders_with_cost) as bigint) as orders_with_cost,
        sum(revenue) as revenue,
        sum(cost_of_goods) as cost_of_goods,
        sum(discounts) as discounts

    from order_costs
    group by customer_id

),

components as (

    select
        customers.customer_id,
        customers.acquisition_channel,
        customers.cohort_month,
        costs_by_customer.completed_orders,
        costs_by_customer.orders_with_cost,
        cast(costs_by_customer.revenue as decimal(18, 2)) as revenue,
        {{ round_money('costs_by_customer.cost_of_goods') }} as cost_of_goods,
        cast(costs_by_customer.discounts as decimal(18, 2)) as discounts,
        coalesce(interactions.service_contacts, 0) as service_contacts,
        cast(coalesce(interactions.transfers, 0) as bigint) as transfers,
        {{ round_money(
            'coalesce(interactions.service_contacts, 0) * ' ~ var('service_cost_per_contact')
            ~ ' + coalesce(interactions.transfers, 0) * ' ~ var('service_cost_per_transfer')
        ) }} as service_cost,
        -- the CAC of the customer's channel and acquisition month; none without a spend record
        acquisition_cost.cac is not null as has_acquisition_cost,
        cast(coalesce(acquisition_cost.cac, 0) as decimal(18, 2)) as acquisition_cost

    from customers
    inner join costs_by_customer using (customer_id)
    left join interactions using (customer_id)
    left join acquisition_cost
        on customers.cohort_month = acquisition_cost.acquisition_month
        and customers.acquisition_channel = acquisition_cost.acquisition_channel

),

final as (

    select
        components.customer_id,
        components.acquisition_channel,
        components.cohort_month,
        components.completed_orders,
        components.orders_with_cost,
        components.revenue,
        components.cost_of_goods,
        cast(components.revenue - components.cost_of_goods as decimal(18, 2)) as gross_margin,
        components.discounts,
        components.service_contacts,
        components.transfers,
        components.service_cost,
        components.has_acquisition_cost,
        components.acquisition_cost,
        cast(
            components.revenue - components.cost_of_goods - components.service_cost - components.acquisition_cost
            as decimal(18, 2)
        ) as profit,
        -- 1 = the tenth of the customers with the highest profit to date
        cast(ntile(10) over (
            order by
                components.revenue - components.cost_of_goods - components.service_cost
                - components.acquisition_cost desc,
                components.customer_id
        ) as bigint) as profit_decile,
        as_of.as_of_date

    from components
    cross join as_of

)

select * from final
