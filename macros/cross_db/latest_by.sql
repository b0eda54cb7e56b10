{#- The latest values of a group without a window (README "Running on Spark"): an aggregate giving
    the struct of `fields` (pairs of (name, expression)) of the row with the greatest `order_by`
    (a list of expressions, compared in order, the later ones breaking ties of the earlier); with
    `n`, a list of the structs of the n greatest rows, greatest first. Add a `filter (where ...)`
    after it as after any aggregate. Both engines have max_by (with n: DuckDB, Spark 4); they spell
    the struct literal and the row key differently. -#}
{% macro max_by_struct(fields, order_by, n=none) -%}
    {{ return(adapter.dispatch('max_by_struct', 'customer_value')(fields, order_by, n)) }}
{%- endmacro %}

{% macro duckdb__max_by_struct(fields, order_by, n) -%}
    max_by(
        { {% for name, expression in fields %}'{{ name }}': {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %} },
        ({{ order_by | join(', ') }}){% if n is not none %},
        {{ n }}{% endif %}
    )
{%- endmacro %}

{% macro spark__max_by_struct(fields, order_by, n) -%}
    max_by(
        named_struct({% for name, expression in fields %}'{{ name }}', {{ expression }}{% if not loop.last %}, {% endif %}{% endfor %}),
        struct({{ order_by | join(', ') }}){% if n is not none %},
        {{ n }}{% endif %}
    )
{%- endmacro %}


{#- The element at 1-based `position` of a list, null where the list is shorter. -#}
{% macro list_element(list_expression, position) -%}
    {{ return(adapter.dispatch('list_element', 'customer_value')(list_expression, position)) }}
{%- endmacro %}

{% macro duckdb__list_element(list_expression, position) -%}
    {{ list_expression }}[{{ position }}]
{%- endmacro %}

{% macro spark__list_element(list_expression, position) -%}
    {#- element_at raises an error past the end under ANSI mode (Spark 4's default) -#}
    try_element_at({{ list_expression }}, {{ position }})
{%- endmacro %}
