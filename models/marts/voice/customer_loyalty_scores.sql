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

customer_responses as (

    -- one pass over the answers, no window: the latest answer of a score type is the one with the
    -- greatest (responded_at, response_id) (response_id breaks ties of time), max_by over that
    -- pair (macros/cross_db/latest_by.sql); with 2 the two latest NPS answers, newest first. One per
    -- score type (score and date together): each costs a sort key per answer
    select
        responses.customer_id,
        count(*) as responses,
        count(responses.nps_score) as nps_answers,
        count(responses.ces_score) as ces_answers,
        count(responses.csat_score) as csat_answers,
        min(responses.response_date) as first_response_date,
        max(responses.response_date) as last_response_date,
        {{ max_by_struct(
            [('score', 'responses.nps_score'), ('response_date', 'responses.response_date')],
            ['responses.responded_at', 'responses.response_id'],
            2
        ) }} filter (where responses.nps_score is not null) as latest_two_nps_answers,
        {{ max_by_struct(
            [('score', 'responses.ces_score'), ('response_date', 'responses.response_date')],
            ['responses.responded_at', 'responses.response_id']
        ) }} filter (where responses.ces_score is not null) as latest_ces_answer,
        {{ max_by_struct(
            [('score', 'responses.csat_score'), ('response_date', 'responses.response_date')],
            ['responses.responded_at', 'responses.response_id']
        ) }} filter (where responses.csat_score is not null) as latest_csat_answer,
        -- NPS answers of the last voice_rolling_nps_months months up to the as-of date
        count(responses.nps_score)
        filter (where responses.response_date > as_of.rolling_nps_after_date) as rolling_nps_answers,
        avg(responses.nps_score)
        filter (where responses.response_date > as_of.rolling_nps_after_date) as rolling_nps_mean

    from responses
    cross join as_of
    group by responses.customer_id

),

latest_answers as (

    select
        customer_responses.customer_id,
        customer_responses.responses,
        customer_responses.nps_answers,
        customer_responses.ces_answers,
        customer_responses.csat_answers,
        customer_responses.first_response_date,
        customer_responses.last_response_date,
        {{ list_element('customer_responses.latest_two_nps_answers', 1) }}.score as latest_nps_score,
        {{ list_element('customer_responses.latest_two_nps_answers', 1) }}.response_date as latest_nps_date,
        {{ list_element('customer_responses.latest_two_nps_answers', 2) }}.score as previous_nps_score,
        customer_responses.latest_ces_answer.score as latest_ces_score,
        customer_responses.latest_ces_answer.response_date as latest_ces_date,
        customer_responses.latest_csat_answer.score as latest_csat_score,
        customer_responses.latest_csat_answer.response_date as latest_csat_date,
        customer_responses.rolling_nps_answers,
        customer_responses.rolling_nps_mean

    from customer_responses

),

final as (

    select
        latest_answers.customer_id,
        latest_answers.responses,
        latest_answers.nps_answers,
        latest_answers.ces_answers,
        latest_answers.csat_answers,
        latest_answers.first_response_date,
        latest_answers.last_response_date,
        latest_answers.latest_nps_score,
        latest_answers.latest_nps_date,
        {{ nps_category('latest_answers.latest_nps_score') }} as latest_nps_category,
        latest_answers.previous_nps_score,
        latest_answers.latest_nps_score - latest_answers.previous_nps_score as nps_change,
        coalesce(latest_answers.rolling_nps_answers, 0) as rolling_nps_answers,
        {{ voice_round_score('latest_answers.rolling_nps_mean') }} as rolling_nps_mean,
        {{ nps_category('latest_answers.rolling_nps_mean') }} as rolling_nps_category,
        latest_answers.latest_ces_score,
        latest_answers.latest_ces_date,
        {{ ces_category('latest_answers.latest_ces_score') }} as latest_ces_category,
        latest_answers.latest_csat_score,
        latest_answers.latest_csat_date,
        {{ csat_category('latest_answers.latest_csat_score') }} as latest_csat_category,
        as_of.as_of_date

    from latest_answers
    cross join as_of

)

select * from final
