{#- The calibration period of the customer-value models: it ends on var clv_calibration_end when set,
    else on the as-of date; the holdout runs from the day after it to the as-of date. -#}
{%- set calibration_end_var = (var('clv_calibration_end') or '') | string | trim -%}

with

as_of as (

    select * from {{ ref('int_as_of_date_resolved') }}

),

final as (

    select
        {% if calibration_end_var -%}
        cast('{{ calibration_end_var }}' as date) as calibration_end,
        {%- else -%}
        as_of_date as calibration_end,
        {%- endif %}
        as_of_date,
        {{ var('clv_time_unit_days') }} as time_unit_days

    from as_of

)

select
    *,
    cast({{ dbt.datediff('calibration_end', 'as_of_date', 'day') }} as bigint) as holdout_days
from final
