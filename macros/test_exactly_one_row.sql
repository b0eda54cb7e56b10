{#- dbt-expectations style generic test (dbt Hub is not reachable here): the model has exactly one
    row (returns the row count when it is not 1). -#}
{% test exactly_one_row(model) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) <> 1
{% endtest %}
