-- Every mart with an as_of_date column stands on the one as-of date of the run
-- (int_as_of_date_resolved) on every row. Returns the marts and dates that differ, with their rows.

with

as_of as (

    select as_of_date as run_as_of_date from {{ ref('int_as_of_date_resolved') }}

),

mart_dates as (

    {%- set marts = [
        'customers', 'customer_audit_figures', 'survey_scores', 'customer_loyalty_scores',
        'satisfaction_vs_loyalty', 'service_effort', 'customer_personas', 'persona_summary',
        'acquisition_cost',
    ] %}
    {% for mart in marts -%}
    select
        '{{ mart }}' as model_name,
        as_of_date

    from {{ ref(mart) }}
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor %}

),

final as (

    select
        mart_dates.model_name,
        mart_dates.as_of_date,
        as_of.run_as_of_date,
        count(*) as rows_on_that_date

    from mart_dates
    cross join as_of
    where mart_dates.as_of_date is distinct from as_of.run_as_of_date
    group by mart_dates.model_name, mart_dates.as_of_date, as_of.run_as_of_date

)

select * from final
