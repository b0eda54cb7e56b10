with

source as (

    select * from {{ source('crm', 'marketing_spend') }}

),

latest as (

    {{ latest_version('source', ['month', 'lower(channel)']) }}

),

renamed as (

    select
        month as spend_month,
        lower(channel) as acquisition_channel,
        coalesce(currency, '{{ var("reporting_currency") }}') as original_currency,
        amount as original_amount,
        _load_id as load_id

    from latest

),

converted as (

    select
        renamed.*,
        {{ exchange_rate('renamed.original_currency', 'renamed.spend_month') }} as exchange_rate

    from renamed
    {{ join_exchange_rates('renamed.original_currency', 'renamed.spend_month') }}

),

final as (

    select
        spend_month,
        acquisition_channel,
        cast(round(original_amount * exchange_rate, 2) as decimal(18, 2)) as spend_amount,
        original_currency,
        original_amount,
        exchange_rate,
        load_id

    from converted

)

select * from final
