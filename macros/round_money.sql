{#- An amount in the reporting currency rounded to the cent, as decimal(18, 2): the rounding of
    every money figure of the marts (averages, revenue per customer or per answer). -#}
{% macro round_money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(18, 2))
{%- endmacro %}
