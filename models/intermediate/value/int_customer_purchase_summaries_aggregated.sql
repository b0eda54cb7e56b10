{#- The per-customer summary of the customer-value models (docs/customer_value.md): frequency,
    recency, T and monetary value, in time units of clv_time_unit_days days, over the calibration
    period (what the models are fitted on) and over all history up to the as-of date (what the
    predictions start from). A purchase is a completed-order day: same-day orders are one
    purchase. -#}
with

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

calibration as (

    select * from {{ ref('int_clv_calibration_resolved') }}

),

purchases as (

    select
        order_days.customer_id,
        order_days.order_date,
        order_days.revenue,
        order_days.acquisition_date as first_purchase_date,
        order_days.order_date > order_days.acquisition_date as is_repeat,
        order_days.order_date <= calibration.calibration_end as is_in_calibration

    from order_days
    cross join calibration

),

summarized as (

    select
        customer_id,
        first_purchase_date,
        -- all history up to the as-of date
        count(*) filter (where is_repeat) as repeat_purchases,
        max(order_date) as last_purchase_date,
        sum(revenue) filter (where is_repeat) as repeat_revenue,
        -- the calibration period (up to and including its end)
        count(*) filter (where is_repeat and is_in_calibration) as calibration_repeat_purchases,
        max(order_date) filter (where is_in_calibration) as calibration_last_purchase_date,
        sum(revenue) filter (where is_repeat and is_in_calibration) as calibration_repeat_revenue,
        -- the holdout (after the calibration end, up to the as-of date)
        count(*) filter (where not is_in_calibration) as holdout_repeat_purchases

    from purchases
    group by customer_id, first_purchase_date

),

final as (

    select
        summarized.customer_id,
        summarized.first_purchase_date,
        summarized.last_purchase_date,
        summarized.repeat_purchases as frequency,
        {{ dbt.datediff('summarized.first_purchase_date', 'summarized.last_purchase_date', 'day') }}
        / calibration.time_unit_days as recency,
        {{ dbt.datediff('summarized.first_purchase_date', 'calibration.as_of_date', 'day') }}
        / calibration.time_unit_days as age,
        coalesce(cast(summarized.repeat_revenue as double) / nullif(summarized.repeat_purchases, 0), 0)
            as monetary_value,
        summarized.first_purchase_date <= calibration.calibration_end as is_in_calibration,
        -- the calibration summary of the customers acquired up to the calibration end (else null)
        case
            when summarized.first_purchase_date <= calibration.calibration_end
                then summarized.calibration_repeat_purchases
        end as calibration_frequency,
        {{ dbt.datediff('summarized.first_purchase_date', 'summarized.calibration_last_purchase_date', 'day') }}
        / calibration.time_unit_days as calibration_recency,
        case
            when summarized.first_purchase_date <= calibration.calibration_end
                then {{ dbt.datediff('summarized.first_purchase_date', 'calibration.calibration_end', 'day') }}
                    / calibration.time_unit_days
        end as calibration_age,
        case
            when summarized.first_purchase_date <= calibration.calibration_end
                then coalesce(
                        cast(summarized.calibration_repeat_revenue as double)
                        / nullif(summarized.calibration_repeat_purchases, 0),
                        0
                    )
        end as calibration_monetary_value,
        case
            when summarized.first_purchase_date <= calibration.calibration_end
                then summarized.holdout_repeat_purchases
        end as holdout_repeat_purchases,
        calibration.calibration_end,
        calibration.as_of_date,
        calibration.time_unit_days

    from summarized
    cross join calibration

)

select * from final
