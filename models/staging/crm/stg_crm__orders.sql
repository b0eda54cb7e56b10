{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('crm', 'orders') }}
    {% if is_incremental() %}
    -- only versions from loads after the latest one processed: a key in a later load wins
    where _load_id > {{ load_watermark() }}
    {% endif %}

),

latest as (

    {{ latest_version('source', ['order_id']) }}

),

renamed as (

    select
        order_id,
        customer_id,
        {{ to_reporting_time('ordered_at') }} as ordered_at,
        status as order_status,
        lower(channel) as sales_channel,
        coalesce(currency, '{{ var("reporting_currency") }}') as original_currency,
        amount as original_amount,
        coalesce(discount_amount, 0) as original_discount_amount,
        -- null when the export has no cost: the cost of goods then follows var gross_margin_rate
        cost_amount as original_cost_amount,
        _load_id as load_id,
        _line as line

    from latest

),

with_dates as (

    select
        *,
        cast(ordered_at as date) as order_date,
        cast(date_trunc('month', ordered_at) as date) as order_month

    from renamed

),

converted as (

    select
        with_dates.*,
        {{ exchange_rate('with_dates.original_currency', 'with_dates.order_month') }} as exchange_rate

    from with_dates
    {{ join_exchange_rates('with_dates.original_currency', 'with_dates.order_month') }}

),

final as (

    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        order_status,
        sales_channel,
        cast(round(original_amount * exchange_rate, 2) as decimal(18, 2)) as amount,
        cast(round(original_discount_amount * exchange_rate, 2) as decimal(18, 2)) as discount_amount,
        cast(round(original_cost_amount * exchange_rate, 2) as decimal(18, 2)) as cost_amount,
        original_currency,
        original_amount,
        exchange_rate,
        load_id,
        line

    from converted

)

select * from final
