{#- Per customer: service contacts and transfers (the service cost of customer_profitability) and
    the feedback they gave (the knowledge value of customer_engagement_value), up to the as-of date.
    Feedback: a survey answer with a comment, a contact whose reason reports a problem (var
    knowledge_problem_contact_reasons). No contacts or survey exports: no rows. -#}
with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}

),

responses as (

    select * from {{ ref('stg_survey__survey_responses') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

contact_counts as (

    select
        contacts.customer_id,
        count(*) as service_contacts,
        sum(contacts.transfers) as transfers,
        count(*) filter (
            where contacts.contact_reason in (
                {%- for reason in var('knowledge_problem_contact_reasons') -%}
                {{ string_literal(reason | lower) }}{% if not loop.last %}, {% endif %}
                {%- endfor -%}
            )
        ) as problem_contacts

    from contacts
    inner join as_of
        on contacts.contact_date <= as_of.as_of_date
    group by contacts.customer_id

),

comment_counts as (

    select
        responses.customer_id,
        count(*) as survey_comments

    from responses
    inner join as_of
        on responses.response_date <= as_of.as_of_date
    where nullif(trim(responses.response_comment), '') is not null
    group by responses.customer_id

),

final as (

    select
        coalesce(contact_counts.customer_id, comment_counts.customer_id) as customer_id,
        coalesce(contact_counts.service_contacts, 0) as service_contacts,
        coalesce(contact_counts.transfers, 0) as transfers,
        coalesce(contact_counts.problem_contacts, 0) as problem_contacts,
        coalesce(comment_counts.survey_comments, 0) as survey_comments

    from contact_counts
    full outer join comment_counts
        on contact_counts.customer_id = comment_counts.customer_id

)

select * from final
