{#- One persona per customer on the as-of date; rules, inputs and precedence in
    docs/personas_and_value.md. Every threshold is a persona_* var. -#}
with

customers as (

    select * from {{ ref('customers') }}
    where is_customer

),

loyalty_scores as (

    select * from {{ ref('customer_loyalty_scores') }}

),

service_contacts as (

    select * from {{ ref('int_customer_service_contacts_aggregated') }}

),

referrals as (

    select * from {{ ref('int_customer_referrals_aggregated') }}

),

lifetime_values as (

    select * from {{ ref('customer_lifetime_value') }}

),

inputs as (

    select
        customers.customer_id,
        customers.as_of_date,
        customers.first_order_date,
        customers.tenure_days,
        customers.recency_days,
        customers.is_in_base,
        customers.completed_orders,
        customers.discounted_orders,
        cast(customers.discounted_orders as double) / customers.completed_orders as discounted_order_share,
        lifetime_values.p_alive,
        loyalty_scores.latest_nps_score,
        loyalty_scores.latest_nps_date,
        loyalty_scores.latest_nps_category,
        coalesce(referrals.referred_buyers, 0) as referred_buyers,
        coalesce(service_contacts.interaction_window_contacts, 0) as interaction_window_contacts,
        coalesce(service_contacts.recent_hard_service_contacts, 0) as recent_hard_service_contacts

    from customers
    left join loyalty_scores using (customer_id)
    left join service_contacts using (customer_id)
    left join referrals using (customer_id)
    left join lifetime_values using (customer_id)

),

rules_evaluated as (

    select
        *,
        -- lapsed: out of the base (no completed order in the last W days): not is_in_base
        -- at_risk: in the base, but walking away
        is_in_base and latest_nps_category = 'detractor' as is_detractor_in_base,
        is_in_base and recent_hard_service_contacts > 0 as has_recent_hard_service_in_base,
        is_in_base and p_alive < {{ var('persona_at_risk_p_alive_below') }} as is_p_alive_low_in_base,
        -- ambassador: recommends and acts on it
        (
            latest_nps_category = 'promoter'
            and completed_orders >= {{ var('persona_repeat_min_orders') }}
            and is_in_base
        ) as is_promoter_repeat_in_base,
        referred_buyers >= {{ var('persona_ambassador_min_referred_buyers') }} as has_referred_buyers,
        -- price_shopper: buys on price
        completed_orders = 1 and discounted_orders = 1 as is_one_off_discounted,
        discounted_order_share > {{ var('persona_price_shopper_discount_share') }} as is_mostly_discounted,
        -- new: acquired recently
        tenure_days < {{ var('persona_new_days') }} as is_recently_acquired,
        -- loyal_passive: buys again without an emotional tie
        (
            is_in_base
            and completed_orders >= {{ var('persona_repeat_min_orders') }}
            and coalesce(latest_nps_category, 'passive') = 'passive'
            and interaction_window_contacts <= {{ var('persona_passive_max_contacts') }}
        ) as is_passive_repeat_in_base

    from inputs

),

assigned as (

    -- the first rule that fires, in the order of precedence of macro persona_rules
    select
        *,
        case
            {%- for rule in persona_rules() %}
            {%- if rule.condition is not none %}
            when {{ rule.condition }} then '{{ rule.persona }}_{{ rule.rule }}'
            {%- else %}
            else '{{ rule.persona }}_{{ rule.rule }}'
            {%- endif %}
            {%- endfor %}
        end as persona_rule

    from rules_evaluated

),

final as (

    select
        customer_id,
        case persona_rule
            {%- for rule in persona_rules() %}
            when '{{ rule.persona }}_{{ rule.rule }}' then '{{ rule.persona }}'
            {%- endfor %}
        end as persona,
        persona_rule,
        as_of_date,
        first_order_date,
        tenure_days,
        recency_days,
        is_in_base,
        p_alive,
        completed_orders,
        discounted_orders,
        round(discounted_order_share, {{ var('value_share_decimals') }}) as discounted_order_share,
        latest_nps_score,
        latest_nps_date,
        latest_nps_category,
        referred_buyers,
        interaction_window_contacts,
        recent_hard_service_contacts,
        {{ persona_match_columns() }}

    from assigned

)

select * from final
