{#- dbt-utils style: numerator / denominator, null where the denominator is 0 or null.
    DuckDB divides decimals as doubles; Spark's decimal division is exact (to 6 digits), which
    rounds some half cents the other way (541.56 / 8 = 67.695: 67.69 from the double on DuckDB,
    67.70 on Spark). The Spark version divides doubles too, so both engines give the same figures. -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'customer_value')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{% macro spark__safe_divide(numerator, denominator) -%}
    cast(({{ numerator }}) as double) / nullif({{ denominator }}, 0)
{%- endmacro %}
