{%- set window_days = var('churn_window_days') %}
with

responses as (

    select * from {{ ref('int_survey_responses_categorized') }}

),

order_days as (

    -- the orders that count, as for the audit figures: completed, up to the as-of date, per day
    select customer_id, order_date, completed_orders, revenue
    from {{ ref('int_customer_order_days_aggregated') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

judged_responses as (

    -- answers at least W days old: the whole window a+1 ... a+W lies on or before the as-of date
    select
        responses.*,
        {{ add_days('responses.response_date', 1) }} as window_start_date,
        {{ add_days('responses.response_date', window_days) }} as window_end_date

    from responses
    cross join as_of
    where {{ add_days('responses.response_date', window_days) }} <= as_of.as_of_date

),

orders_in_window as (

    select
        judged_responses.response_id,
        cast(sum(order_days.completed_orders) as bigint) as completed_orders_in_window,
        sum(order_days.revenue) as revenue_in_window

    from judged_responses
    inner join order_days
        on judged_responses.customer_id = order_days.customer_id
        and order_days.order_date between judged_responses.window_start_date and judged_responses.window_end_date
    group by judged_responses.response_id

),

final as (

    select
        judged_responses.response_id,
        judged_responses.customer_id,
        judged_responses.response_date,
        judged_responses.touchpoint_type,
        judged_responses.nps_score,
        judged_responses.nps_category,
        judged_responses.ces_score,
        judged_responses.ces_category,
        judged_responses.csat_score,
        judged_responses.csat_category,
        judged_responses.window_start_date,
        judged_responses.window_end_date,
        coalesce(orders_in_window.completed_orders_in_window, 0) as completed_orders_in_window,
        coalesce(orders_in_window.revenue_in_window, 0) as revenue_in_window,
        orders_in_window.response_id is not null as is_repurchased,
        orders_in_window.response_id is null as is_lapsed

    from judged_responses
    left join orders_in_window using (response_id)

)

select * from final
