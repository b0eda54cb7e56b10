{#- The monthly snapshot of the persona assignment. Its history is kept across runs: each run
    writes the as-of date's month (replacing that month's rows, unless they stand on a later as-of
    date), and `dbt build --full-refresh` does not rebuild it (full_refresh: false). The one mart
    that an incremental run and a full refresh may not agree on: it holds what earlier runs saw. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_month',
        full_refresh=false,
        on_schema_change='append_new_columns',
    )
}}

with

customer_personas as (

    select * from {{ ref('customer_personas') }}

),

assignments as (

    select
        customer_id,
        cast(date_trunc('month', as_of_date) as date) as snapshot_month,
        as_of_date as snapshot_as_of_date,
        persona,
        persona_rule

    from customer_personas

),

final as (

    select * from assignments
    {% if is_incremental() %}
    -- a month's snapshot taken on a later as-of date is kept (it is closer to the month's end)
    where
        not exists (
            select 1
            from {{ this }} as history
            where history.snapshot_month = assignments.snapshot_month
                and history.snapshot_as_of_date > assignments.snapshot_as_of_date
        )
    {% endif %}

)

select * from final
