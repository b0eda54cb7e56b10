{#- A double rounded to `decimals` places (a double): the scores, means and shares of the voice
    marts. DuckDB rounds a double as round(x * 10^n) / 10^n on its binary value (4.975, stored as
    4.97499..., gives 4.97); Spark's round(x, n) rounds the shortest decimal text of the double
    (4.98). The Spark version rounds x * 10^n to a whole number and divides, as DuckDB does (the
    shortest text of a double that is not exactly a half never ends in 5 there). Found at 1M orders:
    a CES mean of 240 answers, 1,194 / 240 = 4.975, 4.97 on DuckDB and 4.98 on Spark. -#}
{% macro round_double(expression, decimals) -%}
    {{ return(adapter.dispatch('round_double', 'customer_value')(expression, decimals)) }}
{%- endmacro %}

{% macro duckdb__round_double(expression, decimals) -%}
    round({{ expression }}, {{ decimals }})
{%- endmacro %}

{% macro spark__round_double(expression, decimals) -%}
    round(({{ expression }}) * {{ 10 ** decimals }}, 0) / {{ 10 ** decimals }}
{%- endmacro %}
