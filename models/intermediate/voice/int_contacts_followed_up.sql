{%- set window_days = var('churn_window_days') %}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

contact_responses as (

    select * from {{ ref('int_survey_responses_categorized') }}
    where touchpoint_type = 'contact'

),

order_days as (

    -- the orders that count, as for the audit figures: completed, up to the as-of date, per day
    select customer_id, order_date
    from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

contacts_to_as_of_date as (

    select
        contacts.*,
        as_of.as_of_date

    from contacts
    cross join as_of
    where contacts.contact_date <= as_of.as_of_date

),

contacts_sequenced as (

    select
        *,
        {{ days_between('contact_date', 'lead(contact_date) over (
            partition by customer_id
            order by contacted_at, contact_id
        )') }} as days_to_next_contact

    from contacts_to_as_of_date

),

survey_answers as (

    -- the answers of the surveys about each contact
    select
        touchpoint_id as contact_id,
        count(ces_score) as ces_answers,
        sum(ces_score) as ces_score_sum,
        bool_or(ces_category = 'hard') as has_hard_ces,
        count(nps_score) as nps_answers,
        count(*) filter (where nps_category = 'promoter') as nps_promoters,
        count(*) filter (where nps_category = 'detractor') as nps_detractors

    from contact_responses
    group by touchpoint_id

),

judged_contacts as (

    -- contacts at least W days old: the whole window c+1 ... c+W lies on or before the as-of date
    select
        contact_id,
        customer_id,
        {{ add_days('contact_date', 1) }} as window_start_date,
        {{ add_days('contact_date', window_days) }} as window_end_date

    from contacts_to_as_of_date
    where {{ add_days('contact_date', window_days) }} <= as_of_date

),

repurchases as (

    select distinct judged_contacts.contact_id
    from judged_contacts
    inner join order_days
        on judged_contacts.customer_id = order_days.customer_id
        and order_days.order_date between judged_contacts.window_start_date and judged_contacts.window_end_date

),

flagged as (

    select
        contacts_sequenced.contact_id,
        contacts_sequenced.customer_id,
        contacts_sequenced.contacted_at,
        contacts_sequenced.contact_date,
        cast(date_trunc('month', contacts_sequenced.contact_date) as date) as contact_month,
        contacts_sequenced.contact_channel,
        contacts_sequenced.transfers,
        contacts_sequenced.is_resolved,
        contacts_sequenced.transfers >= {{ var('voice_effortful_transfers_min') }}
            as is_passed_on_repeatedly,
        coalesce(
            contacts_sequenced.days_to_next_contact <= {{ var('voice_repeat_contact_days') }}, false
        ) as is_followed_by_repeat_contact,
        coalesce(survey_answers.ces_answers, 0) as ces_answers,
        survey_answers.ces_score_sum,
        coalesce(survey_answers.has_hard_ces, false) as has_hard_ces,
        coalesce(survey_answers.nps_answers, 0) as nps_answers,
        coalesce(survey_answers.nps_promoters, 0) as nps_promoters,
        coalesce(survey_answers.nps_detractors, 0) as nps_detractors,
        {{ add_days('contacts_sequenced.contact_date', window_days) }} <= contacts_sequenced.as_of_date
            as is_repurchase_judged,
        repurchases.contact_id is not null as has_repurchase

    from contacts_sequenced
    left join survey_answers using (contact_id)
    left join repurchases using (contact_id)

),

final as (

    select
        contact_id,
        customer_id,
        contacted_at,
        contact_date,
        contact_month,
        contact_channel,
        transfers,
        is_resolved,
        is_passed_on_repeatedly,
        is_followed_by_repeat_contact,
        ces_answers,
        ces_score_sum,
        has_hard_ces,
        nps_answers,
        nps_promoters,
        nps_detractors,
        has_hard_ces or is_passed_on_repeatedly or coalesce(not is_resolved, false) as is_effortful,
        is_repurchase_judged,
        case when is_repurchase_judged then has_repurchase end as is_repurchased

    from flagged

)

select * from final
