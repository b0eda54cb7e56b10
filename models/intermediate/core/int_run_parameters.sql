{#- The parameters of this build, as dbt resolved them (dbt_project.yml with --vars on top): one row
    for the Python side (Great Expectations suites, run summary) and for people asking "with which
    churn window were these figures made?". The same vars are in this model's meta, so that dbt
    writes them into manifest.json (flows/dbt_artifacts.py reads them there, e.g. before a build). -#}
{{
    config(
        meta={
            'vars': {
                'reporting_currency': var('reporting_currency'),
                'reporting_timezone': var('reporting_timezone'),
                'churn_window_days': var('churn_window_days'),
                'as_of_date': (var('as_of_date') or '') | string,
                'audit_period_grains': var('audit_period_grains'),
                'voice_period_grains': var('voice_period_grains')
            }
        }
    )
}}

with

as_of as (

    select * from {{ ref('int_as_of_date_resolved') }}

),

final as (

    select
        as_of.as_of_date,
        as_of.is_as_of_date_set,
        cast({{ var('churn_window_days') }} as integer) as churn_window_days,
        '{{ var("reporting_currency") }}' as reporting_currency,
        '{{ var("reporting_timezone") }}' as reporting_timezone

    from as_of

)

select * from final
