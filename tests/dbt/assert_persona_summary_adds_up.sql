-- The 'all' row of persona_summary is the sum of the five personas, and counts every customer of
-- customer_personas once. Returns the figures that differ.
with

summary as (

    select * from {{ ref('persona_summary') }}

),

customer_personas as (

    select count(*) as customers from {{ ref('customer_personas') }}

),

persona_sums as (

    select
        sum(customers) as customers,
        sum(revenue_12m) as revenue_12m,
        sum(nps_answers) as nps_answers,
        sum(repeat_customers) as repeat_customers

    from summary
    where persona != 'all'

),

total as (

    select * from summary
    where persona = 'all'

),

final as (

    select
        persona_sums.customers as persona_customers,
        total.customers as all_customers,
        customer_personas.customers as customer_personas_rows

    from persona_sums
    cross join total
    cross join customer_personas
    where persona_sums.customers != total.customers
        or total.customers != customer_personas.customers
        or persona_sums.revenue_12m != total.revenue_12m
        or persona_sums.nps_answers != total.nps_answers
        or persona_sums.repeat_customers != total.repeat_customers

)

select * from final
