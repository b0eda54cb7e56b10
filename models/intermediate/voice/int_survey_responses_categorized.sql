{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='response_id',
        placeholder_column='load_id',
        on_schema_change='fail'
    )
}}
{# Incremental by response (macros/incremental.sql): a run recomputes only the answers that a later
   load touched (the answer itself, or the order or contact it followed: its channel) and those the
   as-of date crossed; every other row depends on nothing that changed. load_id is the latest load
   among the answer and its touchpoint. #}
with

{% if is_incremental() -%}
responses_to_refresh as (

    select responses.response_id
    from {{ ref('stg_survey__survey_responses') }} as responses
    where responses.load_id > {{ load_watermark() }}

    union

    select responses.response_id
    from {{ ref('stg_survey__survey_responses') }} as responses
    inner join {{ ref('stg_crm__orders') }} as orders
        on responses.touchpoint_type = 'order'
        and responses.touchpoint_id = orders.order_id
    where orders.load_id > {{ load_watermark() }}

    union

    select responses.response_id
    from {{ ref('stg_survey__survey_responses') }} as responses
    inner join {{ ref('stg_crm__contacts') }} as contacts
        on responses.touchpoint_type = 'contact'
        and responses.touchpoint_id = contacts.contact_id
    where contacts.load_id > {{ load_watermark() }}

    union

    {{ keys_crossed_by_as_of_date(ref('stg_survey__survey_responses'), 'response_id', 'response_date') }}

),

{% endif -%}
responses as (

    select * from {{ ref('stg_survey__survey_responses') }}
    {% if is_incremental() -%}
    where response_id in (select responses_to_refresh.response_id from responses_to_refresh)
    {%- endif %}

),

orders as (

    select order_id, sales_channel, load_id from {{ ref('stg_crm__orders') }}

),

contacts as (

    select contact_id, contact_channel, load_id from {{ ref('stg_crm__contacts') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

responses_to_as_of_date as (

    select responses.*
    from responses
    cross join as_of
    where responses.response_date <= as_of.as_of_date

),

categorized as (

    select
        responses_to_as_of_date.response_id,
        responses_to_as_of_date.customer_id,
        responses_to_as_of_date.responded_at,
        responses_to_as_of_date.response_date,
        responses_to_as_of_date.touchpoint_type,
        responses_to_as_of_date.touchpoint_id,
        case
            when responses_to_as_of_date.touchpoint_type = 'order'
                then coalesce(orders.sales_channel, 'unknown')
            when responses_to_as_of_date.touchpoint_type = 'contact'
                then coalesce(contacts.contact_channel, 'unknown')
            else 'none'
        end as touchpoint_channel,
        responses_to_as_of_date.nps_score,
        {{ nps_category('responses_to_as_of_date.nps_score') }} as nps_category,
        responses_to_as_of_date.ces_score,
        {{ ces_category('responses_to_as_of_date.ces_score') }} as ces_category,
        responses_to_as_of_date.csat_score,
        {{ csat_category('responses_to_as_of_date.csat_score') }} as csat_category,
        -- greatest() skips nulls: the answer's load when the touchpoint is not in the data
        greatest(responses_to_as_of_date.load_id, orders.load_id, contacts.load_id) as load_id

    from responses_to_as_of_date
    left join orders
        on responses_to_as_of_date.touchpoint_type = 'order'
        and responses_to_as_of_date.touchpoint_id = orders.order_id
    left join contacts
        on responses_to_as_of_date.touchpoint_type = 'contact'
        and responses_to_as_of_date.touchpoint_id = contacts.contact_id

),

final as (

    select * from categorized
    {% if is_incremental() -%}
    -- one placeholder row per refreshed answer (load_id null): replace_keys deletes its old row, so an
    -- answer the as-of date moved back over disappears
    {{ union_placeholder_rows('select responses_to_refresh.response_id from responses_to_refresh', 'response_id') }}
    {%- endif %}

)

select * from final
