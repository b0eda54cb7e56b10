{#- dbt-utils style generic test (dbt Hub is not reachable here): no two rows share the
    values of all the given columns. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}
    select {{ columns }}, count(*) as rows_with_these_values
    from {{ model }}
    group by {{ columns }}
    having count(*) > 1
{% endtest %}
