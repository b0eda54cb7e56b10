{#- Per customer with a completed order: the model's summary, P(alive), the expected purchases and
    spend, expected revenue and the CLV, the discounted expected margin over the horizon
    (docs/customer_value.md). The margin rate is the gross margin of all completed orders. -#}
with

summaries as (

    select * from {{ ref('int_customer_purchase_summaries_aggregated') }}

),

predictions as (

    select * from {{ ref('int_customer_clv_predicted') }}

),

order_costs as (

    select * from {{ ref('int_customer_order_costs_aggregated') }}

),

margin as (

    -- 1 - cost of goods / revenue over every completed order up to the as-of date
    select
        coalesce(
            1 - {{ safe_divide('cast(sum(order_costs.cost_of_goods) as double)', 'sum(order_costs.revenue)') }},
            {{ var('gross_margin_rate') }}
        ) as margin_rate

    from order_costs

),

valued as (

    select
        summaries.customer_id,
        summaries.first_purchase_date,
        summaries.last_purchase_date,
        summaries.frequency,
        summaries.recency,
        summaries.age,
        summaries.monetary_value,
        summaries.is_in_calibration,
        predictions.is_in_spend_fit,
        predictions.p_alive,
        predictions.expected_purchases_12m,
        predictions.expected_purchases_horizon,
        predictions.discounted_expected_purchases,
        predictions.expected_spend_per_purchase,
        predictions.expected_purchases_horizon * predictions.expected_spend_per_purchase as expected_revenue_exact,
        margin.margin_rate
        * predictions.discounted_expected_purchases
        * predictions.expected_spend_per_purchase as clv_exact,
        margin.margin_rate,
        summaries.calibration_end,
        summaries.as_of_date

    from summaries
    inner join predictions using (customer_id)
    cross join margin

),

final as (

    select
        customer_id,
        first_purchase_date,
        last_purchase_date,
        frequency,
        recency,
        age,
        monetary_value,
        is_in_calibration,
        is_in_spend_fit,
        p_alive,
        expected_purchases_12m,
        expected_purchases_horizon,
        discounted_expected_purchases,
        {{ round_money('expected_spend_per_purchase') }} as expected_spend_per_purchase,
        {{ round_money('expected_revenue_exact') }} as expected_revenue,
        {{ round_money('clv_exact') }} as clv,
        -- 1 = the tenth of the customers with the highest CLV
        cast(ntile(10) over (
            order by clv_exact desc, customer_id asc
        ) as bigint) as clv_decile,
        margin_rate,
        cast({{ var('clv_annual_discount_rate') }} as double) as annual_discount_rate,
        {{ var('clv_horizon_months') }} as horizon_months,
        calibration_end,
        as_of_date

    from valued

)

select * from final
