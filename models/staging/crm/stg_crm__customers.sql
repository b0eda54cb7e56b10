with

source as (

    select * from {{ source('crm', 'customers') }}

),

latest as (

    {{ latest_version('source', ['customer_id']) }}

),

final as (

    select
        customer_id,
        {{ to_reporting_time('created_at') }} as created_at,
        cast({{ to_reporting_time('created_at') }} as date) as created_date,
        email,
        full_name,
        upper(country) as country_code,
        lower(acquisition_channel) as acquisition_channel,
        referred_by_customer_id,
        _load_id as load_id

    from latest

)

select * from final
