{#- The version bookkeeping of raw.orders that the incremental models need (macros/incremental.sql):
    every loaded version of every order, with the customer it named. Loads only grow, so a run
    appends the versions of the loads after the latest one it has processed. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}

with

source as (

    select * from {{ source('crm', 'orders') }}
    {% if is_incremental() %}
    -- only versions from loads after the latest one processed
    where _load_id > {{ load_watermark() }}
    {% endif %}

),

final as (

    select
        order_id,
        customer_id,
        _load_id as load_id,
        _line as line

    from source

)

select * from final
