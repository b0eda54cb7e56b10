-- The 'all' rows are the totals of their parts: over the channels of a touchpoint type, and over
-- the touchpoint types. Returns the totals that differ from the sum of their parts.
with

survey_scores as (

    select * from {{ ref('survey_scores') }}

),

channel_sums as (

    select
        period_grain,
        period_start,
        touchpoint_type,
        sum(responses) as responses,
        sum(nps_answers) as nps_answers,
        sum(promoters) as promoters,
        sum(detractors) as detractors,
        sum(ces_answers) as ces_answers,
        sum(csat_answers) as csat_answers

    from survey_scores
    where touchpoint_type != 'all' and channel != 'all'
    group by all

),

type_sums as (

    select
        period_grain,
        period_start,
        'all' as touchpoint_type,
        sum(responses) as responses,
        sum(nps_answers) as nps_answers,
        sum(promoters) as promoters,
        sum(detractors) as detractors,
        sum(ces_answers) as ces_answers,
        sum(csat_answers) as csat_answers

    from survey_scores
    where touchpoint_type != 'all' and channel = 'all'
    group by all

),

expected_totals as (

    select * from channel_sums
    union all
    select * from type_sums

),

channel_totals as (

    select * from survey_scores
    where channel = 'all'

),

final as (

    select
        expected_totals.*,
        totals.responses as total_responses

    from expected_totals
    full join channel_totals as totals
        using (period_grain, period_start, touchpoint_type)
    where totals.responses is distinct from expected_totals.responses
        or totals.nps_answers is distinct from expected_totals.nps_answers
        or totals.promoters is distinct from expected_totals.promoters
        or totals.detractors is distinct from expected_totals.detractors
        or totals.ces_answers is distinct from expected_totals.ces_answers
        or totals.csat_answers is distinct from expected_totals.csat_answers

)

select * from final
