with

periods as (

    select * from {{ ref('int_reporting_periods_generated') }}

),

base_movements as (

    select * from {{ ref('int_customer_base_movements_aggregated') }}

),

customer_periods as (

    select * from {{ ref('int_customer_periods_aggregated') }}

),

base_at_start as (

    -- customers_start: the base at the end of s - 1 (the latest movement on or before that day)
    select
        periods.period_grain,
        periods.period_start,
        coalesce(base_movements.customers_in_base, 0) as customers_start

    from periods
    {{ asof_left_join('base_movements', 'base_movements', 'periods.day_before_period_start', 'movement_date') }}

),

base_at_end as (

    -- customers_end: the base at the end of e
    select
        periods.period_grain,
        periods.period_start,
        coalesce(base_movements.customers_in_base, 0) as customers_end

    from periods
    {{ asof_left_join('base_movements', 'base_movements', 'periods.period_end', 'movement_date') }}

),

period_movements as (

    -- acquisitions, reactivations and lapses on the days s ... e
    select
        periods.period_grain,
        periods.period_start,
        cast(sum(base_movements.acquired_customers) as bigint) as gross_new_customers,
        cast(sum(base_movements.reactivated_customers) as bigint) as reactivated_customers,
        cast(sum(base_movements.lapsed_customers) as bigint) as lost_customers

    from periods
    inner join base_movements
        on base_movements.movement_date between periods.period_start and periods.period_end
    group by periods.period_grain, periods.period_start

),

period_activity as (

    select
        period_grain,
        period_start,
        count(*) as active_customers,
        count(*) filter (where is_new_customer) as active_new_customers,
        count(*) filter (where not is_new_customer) as active_existing_customers,
        cast(sum(completed_orders) as bigint) as orders,
        sum(revenue) as revenue,
        coalesce(sum(revenue) filter (where is_new_customer), 0) as revenue_new_customers,
        coalesce(sum(revenue) filter (where not is_new_customer), 0) as revenue_existing_customers

    from customer_periods
    group by period_grain, period_start

),

joined as (

    select
        periods.period_grain,
        periods.period_start,
        periods.period_end,
        periods.is_complete,
        periods.period_days,
        base_at_start.customers_start,
        coalesce(period_movements.gross_new_customers, 0) as gross_new_customers,
        coalesce(period_movements.reactivated_customers, 0) as reactivated_customers,
        coalesce(period_movements.lost_customers, 0) as lost_customers,
        base_at_end.customers_end,
        coalesce(period_activity.active_customers, 0) as active_customers,
        coalesce(period_activity.active_new_customers, 0) as active_new_customers,
        coalesce(period_activity.active_existing_customers, 0) as active_existing_customers,
        coalesce(period_activity.orders, 0) as orders,
        coalesce(period_activity.revenue, 0) as revenue,
        coalesce(period_activity.revenue_new_customers, 0) as revenue_new_customers,
        coalesce(period_activity.revenue_existing_customers, 0) as revenue_existing_customers,
        periods.as_of_date

    from periods
    inner join base_at_start using (period_grain, period_start)
    inner join base_at_end using (period_grain, period_start)
    left join period_movements using (period_grain, period_start)
    left join period_activity using (period_grain, period_start)

),

final as (

    select
        period_grain,
        period_start,
        period_end,
        is_complete,
        period_days,
        customers_start,
        gross_new_customers,
        reactivated_customers,
        lost_customers,
        gross_new_customers + reactivated_customers - lost_customers as net_new_customers,
        customers_end,
        active_customers,
        active_new_customers,
        active_existing_customers,
        orders,
        revenue,
        revenue_new_customers,
        revenue_existing_customers,
        {{ round_money(safe_divide('revenue_new_customers', 'gross_new_customers')) }}
            as revenue_per_new_customer,
        {{ round_money(safe_divide('revenue_existing_customers', 'active_existing_customers')) }}
            as revenue_per_existing_customer,
        {{ round_money(safe_divide('revenue', 'orders')) }} as average_order_value,
        as_of_date,
        {{ var('churn_window_days') }} as churn_window_days

    from joined

)

select * from final
