{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='contact_id',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('crm', 'contacts') }}
    {% if is_incremental() %}
    -- only versions from loads after the latest one processed: a key in a later load wins
    where _load_id > {{ load_watermark() }}
    {% endif %}

),

latest as (

    {{ latest_version('source', ['contact_id']) }}

),

final as (

    select
        contact_id,
        customer_id,
        {{ to_reporting_time('contacted_at') }} as contacted_at,
        cast({{ to_reporting_time('contacted_at') }} as date) as contact_date,
        lower(channel) as contact_channel,
        lower(reason) as contact_reason,
        coalesce(transfers, 0) as transfers,
        resolved as is_resolved,
        _load_id as load_id

    from latest

)

select * from final
