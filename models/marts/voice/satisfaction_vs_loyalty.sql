with

followed_up_responses as (

    select * from {{ ref('int_survey_responses_followed_up') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

categorized_answers as (

    -- one row per judged answer and score type it carries
    select
        'nps' as score_type,
        nps_category as category,
        customer_id,
        is_repurchased,
        is_lapsed,
        revenue_in_window

    from followed_up_responses
    where nps_category is not null
    union all
    select
        'ces' as score_type,
        ces_category as category,
        customer_id,
        is_repurchased,
        is_lapsed,
        revenue_in_window

    from followed_up_responses
    where ces_category is not null
    union all
    select
        'csat' as score_type,
        csat_category as category,
        customer_id,
        is_repurchased,
        is_lapsed,
        revenue_in_window

    from followed_up_responses
    where csat_category is not null

),

customer_revenue as (

    -- a customer's mean window revenue over their answers in the category: each customer counts once
    select
        score_type,
        category,
        customer_id,
        avg(revenue_in_window) as revenue_per_answer

    from categorized_answers
    group by score_type, category, customer_id

),

category_revenue as (

    select
        score_type,
        category,
        avg(revenue_per_answer) as revenue_per_customer

    from customer_revenue
    group by score_type, category

),

category_answers as (

    select
        score_type,
        category,
        count(*) as answers,
        count(distinct customer_id) as customers,
        count(*) filter (where is_repurchased) as repurchased_answers,
        count(*) filter (where is_lapsed) as lapsed_answers,
        avg(revenue_in_window) as revenue_per_answer

    from categorized_answers
    group by score_type, category

),

final as (

    select
        category_answers.score_type,
        category_answers.category,
        category_answers.answers,
        category_answers.customers,
        category_answers.repurchased_answers,
        {{ voice_share('category_answers.repurchased_answers', 'category_answers.answers') }} as repurchase_share,
        category_answers.lapsed_answers,
        {{ voice_share('category_answers.lapsed_answers', 'category_answers.answers') }} as lapse_share,
        {{ round_money('category_answers.revenue_per_answer') }} as revenue_per_answer,
        {{ round_money('category_revenue.revenue_per_customer') }} as revenue_per_customer,
        {{ var('churn_window_days') }} as window_days,
        as_of.as_of_date

    from category_answers
    cross join as_of
    left join category_revenue using (score_type, category)

)

select * from final
