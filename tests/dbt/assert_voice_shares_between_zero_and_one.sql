-- Every share and rate of the voice marts lies in [0, 1] (null is allowed: no denominator).
-- response_rate is left out on purpose: responses and touchpoints are both dated in the period,
-- so an answer about last period's order can push a tiny cell above 1. Returns the offenders.
with

shares as (

    select 'survey_scores' as model_name, 'ces_easy_share' as share_name, ces_easy_share as share_value
    from {{ ref('survey_scores') }}
    union all
    select 'survey_scores', 'csat_score', csat_score from {{ ref('survey_scores') }}
    union all
    select 'satisfaction_vs_loyalty', 'repurchase_share', repurchase_share from {{ ref('satisfaction_vs_loyalty') }}
    union all
    select 'satisfaction_vs_loyalty', 'lapse_share', lapse_share from {{ ref('satisfaction_vs_loyalty') }}
    union all
    select 'service_effort', 'repeatedly_passed_on_share', repeatedly_passed_on_share from {{ ref('service_effort') }}
    union all
    select 'service_effort', 'resolved_share', resolved_share from {{ ref('service_effort') }}
    union all
    select 'service_effort', 'repeat_contact_share', repeat_contact_share from {{ ref('service_effort') }}
    union all
    select 'service_effort', 'effortful_repurchase_rate', effortful_repurchase_rate from {{ ref('service_effort') }}
    union all
    select 'service_effort', 'easy_repurchase_rate', easy_repurchase_rate from {{ ref('service_effort') }}

)

select * from shares
where share_value < 0 or share_value > 1
