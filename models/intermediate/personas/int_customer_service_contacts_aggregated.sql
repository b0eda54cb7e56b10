with

contacts as (

    select * from {{ ref('int_contacts_followed_up') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

contacts_dated as (

    select
        contacts.customer_id,
        contacts.contact_date,
        -- a hard service experience: a hard CES answer about the contact, or passed on more than
        -- once (voice_effortful_transfers_min) and explicitly left unresolved
        (
            contacts.has_hard_ces
            or (contacts.is_passed_on_repeatedly and coalesce(not contacts.is_resolved, false))
        ) as is_hard_service,
        {{ dbt.datediff('contacts.contact_date', 'as_of.as_of_date', 'day') }} as contact_age_days

    from contacts
    cross join as_of
    where contacts.contact_date <= as_of.as_of_date

),

final as (

    select
        customer_id,
        count(*) filter (where contact_age_days < {{ var('persona_interaction_days') }})
            as interaction_window_contacts,
        count(*) filter (where is_hard_service and contact_age_days < {{ var('persona_recent_days') }})
            as recent_hard_service_contacts,
        max(contact_date) filter (where is_hard_service) as last_hard_service_date

    from contacts_dated
    group by customer_id

)

select * from final
