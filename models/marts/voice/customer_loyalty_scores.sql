with

responses as (

    select * from {{ ref('int_survey_responses_categorized') }}

),

as_of as (

    select
        as_of_date,
        -- the rolling NPS counts answers dated after this day (as-of date - voice_rolling_nps_months)
        cast({{ add_months('as_of_date', -var('voice_rolling_nps_months')) }} as date) as rolling_nps_after_date

    from {{ ref('int_as_of_date_resolved') }}

),

score_answers as (

    -- one row per answered score: a response with NPS and CSAT gives two
    select customer_id, response_id, responded_at, response_date, 'nps' as score_type, nps_score as score
    from responses
    where nps_score is not null
    union all
    select customer_id, response_id, responded_at, response_date, 'ces' as score_type, ces_score as score
    from responses
    where ces_score is not null
    union all
    select customer_id, response_id, responded_at, response_date, 'csat' as score_type, csat_score as score
    from responses
    where csat_score is not null

),

score_answers_ranked as (

    select
        *,
        row_number() over (
            partition by customer_id, score_type
            order by responded_at desc, response_id desc
        ) as answer_recency

    from score_answers

),

latest_answers as (

    select
        customer_id,
        max(score) filter (where score_type = 'nps' and answer_recency = 1) as latest_nps_score,
        max(response_date) filter (where score_type = 'nps' and answer_recency = 1) as latest_nps_date,
        max(score) filter (where score_type = 'nps' and answer_recency = 2) as previous_nps_score,
        max(score) filter (where score_type = 'ces' and answer_recency = 1) as latest_ces_score,
        max(response_date) filter (where score_type = 'ces' and answer_recency = 1) as latest_ces_date,
        max(score) filter (where score_type = 'csat' and answer_recency = 1) as latest_csat_score,
        max(response_date) filter (where score_type = 'csat' and answer_recency = 1) as latest_csat_date

    from score_answers_ranked
    where answer_recency <= 2
    group by customer_id

),

rolling_nps as (

    -- NPS answers of the last voice_rolling_nps_months months up to the as-of date
    select
        score_answers.customer_id,
        count(*) as rolling_nps_answers,
        avg(score_answers.score) as rolling_nps_mean

    from score_answers
    cross join as_of
    where score_answers.score_type = 'nps'
        and score_answers.response_date > as_of.rolling_nps_after_date
    group by score_answers.customer_id

),

customer_responses as (

    select
        customer_id,
        count(*) as responses,
        count(nps_score) as nps_answers,
        count(ces_score) as ces_answers,
        count(csat_score) as csat_answers,
        min(response_date) as first_response_date,
        max(response_date) as last_response_date

    from responses
    group by customer_id

),

final as (

    select
        customer_responses.customer_id,
        customer_responses.responses,
        customer_responses.nps_answers,
        customer_responses.ces_answers,
        customer_responses.csat_answers,
        customer_responses.first_response_date,
        customer_responses.last_response_date,
        latest_answers.latest_nps_score,
        latest_answers.latest_nps_date,
        {{ nps_category('latest_answers.latest_nps_score') }} as latest_nps_category,
        latest_answers.previous_nps_score,
        latest_answers.latest_nps_score - latest_answers.previous_nps_score as nps_change,
        coalesce(rolling_nps.rolling_nps_answers, 0) as rolling_nps_answers,
        {{ voice_round_score('rolling_nps.rolling_nps_mean') }} as rolling_nps_mean,
        {{ nps_category('rolling_nps.rolling_nps_mean') }} as rolling_nps_category,
        latest_answers.latest_ces_score,
        latest_answers.latest_ces_date,
        {{ ces_category('latest_answers.latest_ces_score') }} as latest_ces_category,
        latest_answers.latest_csat_score,
        latest_answers.latest_csat_date,
        {{ csat_category('latest_answers.latest_csat_score') }} as latest_csat_category,
        as_of.as_of_date

    from customer_responses
    cross join as_of
    left join latest_answers using (customer_id)
    left join rolling_nps using (customer_id)

)

select * from final
