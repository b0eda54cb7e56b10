-- Every response up to the as-of date lies in a reporting period: per period grain, the responses
-- of survey_scores' 'all' x 'all' rows add up to the rows of int_survey_responses_categorized (none
-- is lost outside int_reporting_periods_generated). Returns the grains that differ.
with

survey_scores as (

    select * from {{ ref('survey_scores') }}

),

responses as (

    select count(*) as responses from {{ ref('int_survey_responses_categorized') }}

),

grains as (

    {% for grain in reporting_period_grains() -%}
    select '{{ grain }}' as period_grain
    {% if not loop.last %}union all
    {% endif -%}
    {%- endfor %}

),

grain_totals as (

    select
        period_grain,
        sum(responses) as responses

    from survey_scores
    where touchpoint_type = 'all' and channel = 'all'
    group by period_grain

),

final as (

    select
        grains.period_grain,
        coalesce(grain_totals.responses, 0) as responses_in_survey_scores,
        responses.responses as responses_up_to_as_of_date

    from grains
    cross join responses
    left join grain_totals using (period_grain)
    where coalesce(grain_totals.responses, 0) <> responses.responses

)

select * from final
