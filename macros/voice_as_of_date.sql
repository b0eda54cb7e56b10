{#- The as-of date of the voice-of-the-customer figures, as a SQL date expression: var as_of_date
    (YYYY-MM-DD) when set, else the date of the last completed order. A model that calls it
    without otherwise selecting from orders starts with `-- depends_on: {{ ref('orders') }}`, so
    that its dependencies do not change with the var (its unit tests give orders with `rows: []`). -#}
{% macro voice_as_of_date() -%}
    {%- if var('as_of_date') -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max(order_date) from {{ ref('orders') }} where is_completed)
    {%- endif -%}
{%- endmacro %}
