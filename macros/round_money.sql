{#- An amount in the reporting currency rounded to the cent, as decimal(18, 2): the rounding of
    every money figure of the marts (averages, revenue per customer or per answer).
    DuckDB rounds a double as round(x * 100) / 100 on the binary value (70.865, stored as
    70.86499..., gives 70.86); Spark's round(x, 2) rounds the shortest decimal text of the double
    (70.87). The Spark version rounds x * 100 to a whole number, as DuckDB does. -#}
{% macro round_money(expression) -%}
    {{ return(adapter.dispatch('round_money', 'customer_value')(expression)) }}
{%- endmacro %}

{% macro duckdb__round_money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}

{% macro spark__round_money(expression) -%}
    cast(round(({{ expression }}) * 100, 0) / 100 as decimal(18, 2))
{%- endmacro %}
