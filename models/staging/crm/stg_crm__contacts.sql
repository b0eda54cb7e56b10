with

source as (

    select * from {{ source('crm', 'contacts') }}

),

latest as (

    select * from source
    {{ latest_version(['contact_id']) }}

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
