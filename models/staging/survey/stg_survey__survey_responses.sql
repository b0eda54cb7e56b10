{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='response_id',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('survey', 'survey_responses') }}
    {% if is_incremental() %}
    -- only versions from loads after the latest one processed: a key in a later load wins
    where _load_id > {{ load_watermark() }}
    {% endif %}

),

latest as (

    {{ latest_version('source', ['response_id']) }}

),

final as (

    select
        response_id,
        customer_id,
        {{ to_reporting_time('responded_at') }} as responded_at,
        cast({{ to_reporting_time('responded_at') }} as date) as response_date,
        touchpoint_type,
        touchpoint_id,
        nps as nps_score,
        ces as ces_score,
        csat as csat_score,
        comment as response_comment,
        _load_id as load_id

    from latest

)

select * from final
