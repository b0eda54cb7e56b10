{#- The model checked on the holdout, the days after the calibration end up to the as-of date
    (docs/customer_value.md, "Reading the holdout check"). Empty when the calibration ends on the
    as-of date. Three kinds of rows (check_type):
    - frequency: per number of calibration repeat purchases (0, 1, ..., 6, 7+), the customers and
      their mean actual and mean expected repeat purchases in the holdout (Figure 5 of the paper);
    - total: the same over all customers of the calibration period, with the error;
    - cumulative: per time unit since the first purchase of any of them, the cumulative actual and
      expected repeat purchases (Figure 4), calibration and holdout. -#}
{%- set frequency_top = 7 %}
with

summaries as (

    select * from {{ ref('int_customer_purchase_summaries_aggregated') }}
    where is_in_calibration

),

predictions as (

    select * from {{ ref('int_customer_clv_predicted') }}

),

order_days as (

    select * from {{ ref('int_customer_order_days_aggregated') }}

),

expected_new as (

    select * from {{ ref('int_clv_new_customer_purchases_expected') }}

),

calibration as (

    select * from {{ ref('int_clv_calibration_resolved') }}
    where holdout_days > 0

),

customers as (

    select
        summaries.customer_id,
        summaries.first_purchase_date,
        least(summaries.calibration_frequency, {{ frequency_top }}) as frequency_bucket,
        summaries.holdout_repeat_purchases as actual,
        predictions.holdout_expected_purchases as expected

    from summaries
    inner join predictions using (customer_id)
    cross join calibration

),

by_frequency as (

    select
        'frequency' as check_type,
        case
            when frequency_bucket = {{ frequency_top }} then '{{ frequency_top }}+'
            else cast(frequency_bucket as string)
        end as calibration_frequency,
        frequency_bucket as row_order,
        cast(null as date) as period_end_date,
        count(*) as customers,
        sum(actual) as actual_repeat_purchases,
        sum(expected) as expected_repeat_purchases

    from customers
    group by frequency_bucket

),

total as (

    select
        'total' as check_type,
        'all' as calibration_frequency,
        {{ frequency_top + 1 }} as row_order,
        cast(null as date) as period_end_date,
        count(*) as customers,
        sum(actual) as actual_repeat_purchases,
        sum(expected) as expected_repeat_purchases

    from customers
    having count(*) > 0

),

acquisitions as (

    select
        first_purchase_date,
        count(*) as customers

    from customers
    group by first_purchase_date

),

first_acquisition as (

    select
        min(first_purchase_date) as start_date,
        count(*) as customers

    from customers

),

unit_numbers as (

    -- time units k = 1, 2, ... from the first acquisition until the one that holds the as-of date:
    -- unit k holds the days (k - 1) u ... k u - 1 after the first acquisition (day 0)
    select
        {{ integer_series(1, 'cast(ceil(
                (' ~ dbt.datediff('first_acquisition.start_date', 'calibration.as_of_date', 'day') ~ ' + 1)
                / calibration.time_unit_days
            ) as bigint)') }} as unit_index

    from first_acquisition
    cross join calibration

),

time_units as (

    -- the last day of each time unit, capped at the as-of date
    select
        unit_numbers.unit_index,
        least(
            cast(
                {{ add_days('first_acquisition.start_date', 'cast(unit_numbers.unit_index * calibration.time_unit_days - 1 as integer)') }}
                as date
            ),
            calibration.as_of_date
        ) as period_end_date

    from unit_numbers
    cross join first_acquisition
    cross join calibration

),

repeat_days as (

    select
        order_days.order_date,
        count(*) as repeat_purchases

    from order_days
    inner join customers using (customer_id)
    where not order_days.is_acquisition
    group by order_days.order_date

),

cumulative_actual as (

    select
        time_units.unit_index,
        coalesce(sum(repeat_days.repeat_purchases), 0) as actual_repeat_purchases

    from time_units
    left join repeat_days
        on time_units.period_end_date >= repeat_days.order_date
    group by time_units.unit_index

),

cumulative_expected as (

    select
        time_units.unit_index,
        coalesce(sum(acquisitions.customers * expected_new.expected_repeat_purchases), 0)
            as expected_repeat_purchases

    from time_units
    left join acquisitions
        on time_units.period_end_date >= acquisitions.first_purchase_date
    left join expected_new
        on expected_new.days_since_first_purchase
        = {{ dbt.datediff('acquisitions.first_purchase_date', 'time_units.period_end_date', 'day') }}
    group by time_units.unit_index

),

cumulative as (

    select
        'cumulative' as check_type,
        cast(null as string) as calibration_frequency,
        {{ frequency_top + 1 }} + time_units.unit_index as row_order,
        time_units.period_end_date,
        first_acquisition.customers,
        cumulative_actual.actual_repeat_purchases,
        cumulative_expected.expected_repeat_purchases

    from time_units
    cross join first_acquisition
    inner join cumulative_actual on time_units.unit_index = cumulative_actual.unit_index
    inner join cumulative_expected on time_units.unit_index = cumulative_expected.unit_index

),

unioned as (

    select * from by_frequency
    union all
    select * from total
    union all
    select * from cumulative

),

final as (

    select
        unioned.check_type,
        unioned.calibration_frequency,
        unioned.row_order,
        unioned.period_end_date,
        unioned.period_end_date > calibration.calibration_end as is_holdout,
        unioned.customers,
        cast(unioned.actual_repeat_purchases as double) as actual_repeat_purchases,
        unioned.expected_repeat_purchases,
        {{ safe_divide('cast(unioned.actual_repeat_purchases as double)', 'unioned.customers') }}
            as mean_actual_repeat_purchases,
        {{ safe_divide('unioned.expected_repeat_purchases', 'unioned.customers') }}
            as mean_expected_repeat_purchases,
        -- expected - actual, and relative to actual
        unioned.expected_repeat_purchases - unioned.actual_repeat_purchases as error,
        {{ safe_divide('unioned.expected_repeat_purchases - unioned.actual_repeat_purchases',
            'unioned.actual_repeat_purchases') }} as relative_error,
        calibration.calibration_end,
        calibration.holdout_days,
        calibration.as_of_date

    from unioned
    cross join calibration

)

select * from final
