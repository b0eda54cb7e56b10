{%- set z = var('voice_nps_confidence_z') %}
with

responses as (

    select * from {{ ref('int_survey_responses_categorized') }}

),

orders as (

    select order_date, sales_channel from {{ ref('orders') }}

),

contacts as (

    select contact_date, contact_channel from {{ ref('stg_crm__contacts') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

periods as (

    -- the reporting periods of every grain; period_end is capped at the as-of date
    select
        period_grain,
        period_start,
        period_end,
        is_complete

    from {{ ref('int_reporting_periods_generated') }}

),

daily_scores as (

    -- one row per day, touchpoint type and channel: additive counts and sums, rolled up below
    select
        response_date,
        touchpoint_type,
        touchpoint_channel as channel,
        count(*) as responses,
        count(nps_score) as nps_answers,
        count(*) filter (where nps_category = 'promoter') as promoters,
        count(*) filter (where nps_category = 'passive') as passives,
        count(*) filter (where nps_category = 'detractor') as detractors,
        count(ces_score) as ces_answers,
        sum(ces_score) as ces_score_sum,
        count(*) filter (where ces_category = 'easy') as ces_easy_answers,
        count(csat_score) as csat_answers,
        sum(csat_score) as csat_score_sum,
        count(*) filter (where csat_category = 'satisfied') as csat_satisfied_answers

    from responses
    group by all

),

daily_scores_in_periods as (

    select
        periods.period_grain,
        periods.period_start,
        daily_scores.*

    from daily_scores
    inner join periods
        on daily_scores.response_date between periods.period_start and periods.period_end

),

period_scores as (

    select
        period_grain,
        period_start,
        case when grouping(touchpoint_type) = 1 then 'all' else touchpoint_type end as touchpoint_type,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        cast(sum(responses) as bigint) as responses,
        cast(sum(nps_answers) as bigint) as nps_answers,
        cast(sum(promoters) as bigint) as promoters,
        cast(sum(passives) as bigint) as passives,
        cast(sum(detractors) as bigint) as detractors,
        cast(sum(ces_answers) as bigint) as ces_answers,
        sum(ces_score_sum) as ces_score_sum,
        cast(sum(ces_easy_answers) as bigint) as ces_easy_answers,
        cast(sum(csat_answers) as bigint) as csat_answers,
        sum(csat_score_sum) as csat_score_sum,
        cast(sum(csat_satisfied_answers) as bigint) as csat_satisfied_answers

    from daily_scores_in_periods
    group by grouping sets (  -- noqa: PRS
        (period_grain, period_start, touchpoint_type, channel),
        (period_grain, period_start, touchpoint_type),
        (period_grain, period_start)
    )

),

touchpoint_events as (

    select
        'order' as touchpoint_type,
        coalesce(sales_channel, 'unknown') as channel,
        order_date as touchpoint_date

    from orders
    union all
    select
        'contact' as touchpoint_type,
        contact_channel as channel,
        contact_date as touchpoint_date

    from contacts

),

daily_touchpoints as (

    select
        touchpoint_events.touchpoint_date,
        touchpoint_events.touchpoint_type,
        touchpoint_events.channel,
        count(*) as touchpoints

    from touchpoint_events
    cross join as_of
    where touchpoint_events.touchpoint_date <= as_of.as_of_date
    group by all

),

daily_touchpoints_in_periods as (

    select
        periods.period_grain,
        periods.period_start,
        daily_touchpoints.*

    from daily_touchpoints
    inner join periods
        on daily_touchpoints.touchpoint_date between periods.period_start and periods.period_end

),

period_touchpoints as (

    select
        period_grain,
        period_start,
        touchpoint_type,
        case when grouping(channel) = 1 then 'all' else channel end as channel,
        cast(sum(touchpoints) as bigint) as touchpoints

    from daily_touchpoints_in_periods
    group by grouping sets (  -- noqa: PRS
        (period_grain, period_start, touchpoint_type, channel),
        (period_grain, period_start, touchpoint_type)
    )

),

nps_shares as (

    select
        *,
        {{ net_promoter_score('promoters', 'detractors', 'nps_answers') }} as nps_exact,
        {{ safe_divide('cast(promoters as double)', 'nps_answers') }} as promoter_share,
        {{ safe_divide('cast(detractors as double)', 'nps_answers') }} as detractor_share

    from period_scores

),

nps_variances as (

    select
        *,
        -- variance of one answer's NPS value (+1 promoter, 0 passive, -1 detractor): the trinomial
        greatest(promoter_share + detractor_share - power(promoter_share - detractor_share, 2), 0) as answer_variance

    from nps_shares

),

nps_errors as (

    select
        *,
        -- standard error of NPS, in NPS points
        case
            when nps_answers >= 2 then 100 * sqrt(answer_variance / nps_answers)
        end as nps_standard_error

    from nps_variances

),

nps_intervals as (

    select
        *,
        {{ z }} * nps_standard_error as nps_margin_of_error_exact,
        -- clipped to the range NPS can take; null with the standard error
        case
            when nps_standard_error is not null
                then greatest(nps_exact - {{ z }} * nps_standard_error, -100)
        end as nps_ci_low_exact,
        case
            when nps_standard_error is not null
                then least(nps_exact + {{ z }} * nps_standard_error, 100)
        end as nps_ci_high_exact

    from nps_errors

),

final as (

    select
        scores.period_grain,
        scores.period_start,
        periods.period_end,
        scores.touchpoint_type,
        scores.channel,
        scores.responses,
        scores.nps_answers,
        scores.promoters,
        scores.passives,
        scores.detractors,
        {{ voice_round_score('scores.nps_exact') }} as nps,
        {{ voice_round_score('scores.nps_margin_of_error_exact') }} as nps_margin_of_error,
        {{ voice_round_score('scores.nps_ci_low_exact') }} as nps_ci_low,
        {{ voice_round_score('scores.nps_ci_high_exact') }} as nps_ci_high,
        scores.ces_answers,
        {{ voice_round_score(safe_divide('scores.ces_score_sum', 'scores.ces_answers')) }}
            as ces_mean,
        {{ voice_share('scores.ces_easy_answers', 'scores.ces_answers') }} as ces_easy_share,
        scores.csat_answers,
        {{ voice_share('scores.csat_satisfied_answers', 'scores.csat_answers') }} as csat_score,
        {{ voice_round_score(safe_divide('scores.csat_score_sum', 'scores.csat_answers')) }}
            as csat_mean,
        period_touchpoints.touchpoints,
        case
            when scores.touchpoint_type in ('order', 'contact')
                then {{ voice_share('scores.responses', 'period_touchpoints.touchpoints') }}
        end as response_rate,
        as_of.as_of_date,
        periods.is_complete

    from nps_intervals as scores
    cross join as_of
    inner join periods
        on scores.period_grain = periods.period_grain
        and scores.period_start = periods.period_start
    left join period_touchpoints
        on scores.period_grain = period_touchpoints.period_grain
        and scores.period_start = period_touchpoints.period_start
        and scores.touchpoint_type = period_touchpoints.touchpoint_type
        and scores.channel = period_touchpoints.channel

)

select * from final
