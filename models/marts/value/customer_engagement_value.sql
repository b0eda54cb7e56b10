{#- Customer engagement value (Kumar et al. 2010) per customer with a completed order:
    lifetime + referral + network + knowledge value (docs/customer_value.md). -#}
{%- set share = var('referral_incremental_share') %}
with

customers as (

    select * from {{ ref('customers') }}
    where is_customer

),

lifetime_values as (

    select * from {{ ref('customer_lifetime_value') }}

),

interactions as (

    select * from {{ ref('int_customer_interactions_aggregated') }}

),

referrals as (

    -- who referred whom, among customers who bought (a record naming itself is no referral)
    select
        customers.referred_by_customer_id as referrer_id,
        customers.customer_id as referred_id,
        lifetime_values.clv as referred_clv

    from customers
    inner join lifetime_values using (customer_id)
    where customers.referred_by_customer_id is not null
        and customers.referred_by_customer_id <> customers.customer_id

),

referral_values as (

    -- the share of the referred buyers' CLV that would not have come without the referrer
    select
        referrer_id as customer_id,
        count(*) as referred_buyers,
        round({{ share }} * sum(referred_clv), 2) as referral_value

    from referrals
    group by referrer_id

),

network_values as (

    -- the same share of the referral value the referred customers created in turn
    select
        referrals.referrer_id as customer_id,
        round({{ share }} * sum(referral_values.referral_value), 2) as network_value

    from referrals
    inner join referral_values
        on referrals.referred_id = referral_values.customer_id
    group by referrals.referrer_id

),

components as (

    select
        lifetime_values.customer_id,
        lifetime_values.clv as lifetime_value,
        coalesce(referral_values.referred_buyers, 0) as referred_buyers,
        cast(coalesce(referral_values.referral_value, 0) as decimal(18, 2)) as referral_value,
        cast(coalesce(network_values.network_value, 0) as decimal(18, 2)) as network_value,
        coalesce(interactions.survey_comments, 0) as survey_comments,
        coalesce(interactions.problem_contacts, 0) as problem_contacts,
        {{ round_money(
            'coalesce(interactions.survey_comments, 0) * ' ~ var('knowledge_value_per_survey_comment')
            ~ ' + coalesce(interactions.problem_contacts, 0) * ' ~ var('knowledge_value_per_problem_contact')
        ) }} as knowledge_value,
        lifetime_values.as_of_date

    from lifetime_values
    left join referral_values using (customer_id)
    left join network_values using (customer_id)
    left join interactions using (customer_id)

),

final as (

    select
        customer_id,
        lifetime_value,
        referral_value,
        network_value,
        knowledge_value,
        lifetime_value + referral_value + network_value + knowledge_value as engagement_value,
        cast(rank() over (
            order by lifetime_value + referral_value + network_value + knowledge_value desc
        ) as bigint) as engagement_rank,
        referred_buyers,
        survey_comments,
        problem_contacts,
        cast({{ share }} as double) as referral_incremental_share,
        as_of_date

    from components

)

select * from final
