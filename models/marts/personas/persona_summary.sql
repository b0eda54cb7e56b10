with

customer_personas as (

    select * from {{ ref('customer_personas') }}

),

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

personas as (

    {{ persona_values() }}

),

revenue_last_12_months as (

    -- completed orders dated after as-of date - 12 months, up to the as-of date
    select
        order_days.customer_id,
        sum(order_days.revenue) as revenue_12m

    from order_days
    cross join as_of
    where order_days.order_date > cast({{ add_months('as_of.as_of_date', -12) }} as date)
        and order_days.order_date <= as_of.as_of_date
    group by order_days.customer_id

),

customer_figures as (

    select
        customer_personas.persona,
        customer_personas.customer_id,
        customer_personas.completed_orders >= {{ var('persona_repeat_min_orders') }} as is_repeat_customer,
        customer_personas.latest_nps_score,
        coalesce(revenue_last_12_months.revenue_12m, 0) as revenue_12m

    from customer_personas
    left join revenue_last_12_months using (customer_id)

),

persona_figures as (

    -- per persona, and 'all' for the total
    select
        coalesce(persona, 'all') as persona,
        count(*) as customers,
        sum(revenue_12m) as revenue_12m,
        count(latest_nps_score) as nps_answers,
        avg(latest_nps_score) as mean_nps_score,
        count(*) filter (where latest_nps_score >= {{ var('voice_nps_promoter_min') }}) as promoters,
        count(*) filter (where latest_nps_score < {{ var('voice_nps_passive_min') }}) as detractors,
        count(*) filter (where is_repeat_customer) as repeat_customers

    from customer_figures
    group by grouping sets ((persona), ())  -- noqa: PRS

),

all_personas as (

    -- every persona has a row, also one without customers
    select persona, persona_order from personas
    union all
    select 'all', {{ persona_names() | length + 1 }}

),

totals as (

    select customers as total_customers, revenue_12m as total_revenue_12m
    from persona_figures
    where persona = 'all'

),

final as (

    select
        all_personas.persona,
        all_personas.persona_order,
        coalesce(persona_figures.customers, 0) as customers,
        round(
            coalesce({{ safe_divide('cast(persona_figures.customers as double)', 'totals.total_customers') }}, 0),
            {{ var('value_share_decimals') }}
        ) as customer_share,
        cast(coalesce(persona_figures.revenue_12m, 0) as decimal(18, 2)) as revenue_12m,
        round(
            coalesce({{ safe_divide('cast(persona_figures.revenue_12m as double)', 'totals.total_revenue_12m') }}, 0),
            {{ var('value_share_decimals') }}
        ) as revenue_12m_share,
        {{ round_money(safe_divide('persona_figures.revenue_12m', 'persona_figures.customers')) }}
            as revenue_12m_per_customer,
        coalesce(persona_figures.nps_answers, 0) as nps_answers,
        round(persona_figures.mean_nps_score, {{ var('voice_score_decimals') }}) as mean_nps_score,
        round(
            {{ net_promoter_score(
                'persona_figures.promoters', 'persona_figures.detractors', 'persona_figures.nps_answers'
            ) }},
            {{ var('voice_score_decimals') }}
        ) as nps,
        coalesce(persona_figures.repeat_customers, 0) as repeat_customers,
        round(
            {{ safe_divide('cast(persona_figures.repeat_customers as double)', 'persona_figures.customers') }},
            {{ var('value_share_decimals') }}
        ) as repurchase_rate,
        as_of.as_of_date

    from all_personas
    cross join totals
    cross join as_of
    left join persona_figures using (persona)

)

select * from final
