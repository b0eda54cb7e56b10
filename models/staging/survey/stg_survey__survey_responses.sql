with

source as (

    select * from {{ source('survey', 'survey_responses') }}

),

latest as (

    select * from source
    {{ latest_version(['response_id']) }}

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
