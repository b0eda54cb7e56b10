{#- The fitted BG/NBD and Gamma-Gamma parameters, one row per model and parameter
    (docs/customer_value.md). -#}
with

estimates as (

    select * from {{ ref('int_clv_parameters_estimated') }}

),

calibration as (

    select * from {{ ref('int_clv_calibration_resolved') }}

),

final as (

    select
        estimates.model,
        estimates.parameter,
        estimates.parameter_order,
        estimates.estimate,
        estimates.standard_error,
        estimates.log_likelihood,
        estimates.customers,
        calibration.calibration_end,
        estimates.time_unit_days,
        estimates.converged,
        estimates.iterations,
        estimates.fit_message,
        calibration.as_of_date

    from estimates
    cross join calibration

)

select * from final
