with

contacts as (

    select * from {{ ref('int_contacts_followed_up') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

monthly_effort as (

    select
        contact_month,
        case when grouping(contact_channel) = 1 then 'all' else contact_channel end as contact_channel,
        count(*) as contacts,
        count(distinct customer_id) as customers,
        avg(transfers) as mean_transfers_exact,
        count(*) filter (where is_passed_on_repeatedly) as repeatedly_passed_on_contacts,
        count(is_resolved) as resolution_known_contacts,
        count(*) filter (where is_resolved) as resolved_contacts,
        count(*) filter (where is_followed_by_repeat_contact) as repeat_contacts,
        cast(sum(ces_answers) as bigint) as ces_answers,
        sum(ces_score_sum) as ces_score_sum,
        count(*) filter (where is_effortful) as effortful_contacts,
        count(*) filter (where is_effortful and is_repurchase_judged) as effortful_contacts_judged,
        count(*) filter (where is_effortful and is_repurchased) as effortful_contacts_repurchased,
        count(*) filter (where not is_effortful and is_repurchase_judged) as easy_contacts_judged,
        count(*) filter (where not is_effortful and is_repurchased) as easy_contacts_repurchased,
        cast(coalesce(sum(nps_answers) filter (where is_effortful), 0) as bigint) as effortful_nps_answers,
        sum(nps_promoters) filter (where is_effortful) as effortful_nps_promoters,
        sum(nps_detractors) filter (where is_effortful) as effortful_nps_detractors,
        cast(coalesce(sum(nps_answers) filter (where not is_effortful), 0) as bigint) as easy_nps_answers,
        sum(nps_promoters) filter (where not is_effortful) as easy_nps_promoters,
        sum(nps_detractors) filter (where not is_effortful) as easy_nps_detractors

    from contacts
    group by grouping sets ((contact_month, contact_channel), (contact_month))  -- noqa: PRS

),

final as (

    select
        monthly_effort.contact_month,
        monthly_effort.contact_channel,
        monthly_effort.contacts,
        monthly_effort.customers,
        {{ voice_round_score('monthly_effort.mean_transfers_exact') }} as mean_transfers,
        monthly_effort.repeatedly_passed_on_contacts,
        {{ voice_share('monthly_effort.repeatedly_passed_on_contacts', 'monthly_effort.contacts') }}
            as repeatedly_passed_on_share,
        monthly_effort.resolution_known_contacts,
        {{ voice_share('monthly_effort.resolved_contacts', 'monthly_effort.resolution_known_contacts') }}
            as resolved_share,
        monthly_effort.repeat_contacts,
        {{ voice_share('monthly_effort.repeat_contacts', 'monthly_effort.contacts') }} as repeat_contact_share,
        monthly_effort.ces_answers,
        {{ voice_round_score(safe_divide('monthly_effort.ces_score_sum', 'monthly_effort.ces_answers')) }} as ces_mean,
        monthly_effort.effortful_contacts,
        monthly_effort.effortful_contacts_judged,
        {{ voice_share('monthly_effort.effortful_contacts_repurchased', 'monthly_effort.effortful_contacts_judged') }}
            as effortful_repurchase_rate,
        monthly_effort.easy_contacts_judged,
        {{ voice_share('monthly_effort.easy_contacts_repurchased', 'monthly_effort.easy_contacts_judged') }}
            as easy_repurchase_rate,
        monthly_effort.effortful_nps_answers,
        {{ voice_round_score(net_promoter_score(
            'monthly_effort.effortful_nps_promoters', 'monthly_effort.effortful_nps_detractors',
            'monthly_effort.effortful_nps_answers'
        )) }} as effortful_nps,
        monthly_effort.easy_nps_answers,
        {{ voice_round_score(net_promoter_score(
            'monthly_effort.easy_nps_promoters', 'monthly_effort.easy_nps_detractors', 'monthly_effort.easy_nps_answers'
        )) }} as easy_nps,
        as_of.as_of_date,
        cast({{ dbt.last_day('monthly_effort.contact_month', 'month') }} as date) <= as_of.as_of_date
            as is_complete

    from monthly_effort
    cross join as_of

)

select * from final
