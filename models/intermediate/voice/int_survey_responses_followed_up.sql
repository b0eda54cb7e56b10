{%- set window_days = var('churn_window_days') %}
with

responses as (

    select * from {{ ref('int_survey_responses_categorized') }}

),

completed_orders as (

    select customer_id, order_date, amount
    from {{ ref('orders') }}
    where is_completed

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

judged_responses as (

    -- answers at least W days old: the whole window a+1 ... a+W lies on or before the as-of date
    select
        responses.*,
        responses.response_date + 1 as window_start_date,
        responses.response_date + {{ window_days }} as window_end_date

    from responses
    cross join as_of
    where responses.response_date + {{ window_days }} <= as_of.as_of_date

),

orders_in_window as (

    select
        judged_responses.response_id,
        count(*) as completed_orders_in_window,
        sum(completed_orders.amount) as revenue_in_window

    from judged_responses
    inner join completed_orders
        on judged_responses.customer_id = completed_orders.customer_id
        and completed_orders.order_date between judged_responses.window_start_date
            and judged_responses.window_end_date
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
