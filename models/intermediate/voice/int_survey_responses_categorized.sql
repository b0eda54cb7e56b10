with

responses as (

    select * from {{ ref('stg_survey__survey_responses') }}

),

orders as (

    select order_id, sales_channel from {{ ref('stg_crm__orders') }}

),

contacts as (

    select contact_id, contact_channel from {{ ref('stg_crm__contacts') }}

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

final as (

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
        {{ csat_category('responses_to_as_of_date.csat_score') }} as csat_category

    from responses_to_as_of_date
    left join orders
        on responses_to_as_of_date.touchpoint_type = 'order'
        and responses_to_as_of_date.touchpoint_id = orders.order_id
    left join contacts
        on responses_to_as_of_date.touchpoint_type = 'contact'
        and responses_to_as_of_date.touchpoint_id = contacts.contact_id

)

select * from final
