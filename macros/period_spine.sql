{#- The period grains of every mart with periods (customer_audit_figures, survey_scores) and of the
    customer periods behind them: month, quarter and year (date_trunc parts). Fixed here, the one
    place that names them; int_run_parameters reports them. -#}
{% macro reporting_period_grains() -%}
    {{ return(['month', 'quarter', 'year']) }}
{%- endmacro %}


{#- One row per period of each grain (month, quarter, year, ...) from the period holding
    `first_date` to the period holding `last_date`, with no gaps: period_grain and period_start.
    `first_date` and `last_date` are columns of `relation` (one row). Cost: one row per period,
    never per day. -#}
{% macro period_spine(grains, first_date, last_date, relation) -%}
    {%- for grain in grains %}
    select
        '{{ grain }}' as period_grain,
        {{ date_series(dbt.date_trunc(grain, first_date), 'cast(' ~ last_date ~ ' as timestamp)', grain) }}
            as period_start

    from {{ relation }}
    where {{ first_date }} is not null and {{ last_date }} >= {{ first_date }}
    {% if not loop.last %}
    union all
    {% endif -%}
    {% endfor -%}
{%- endmacro %}
