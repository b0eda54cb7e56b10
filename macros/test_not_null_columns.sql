{#- Generic test: none of `columns` is null. One test (one dbt node, one scan) per model instead of
    a not_null test per column: each dbt node costs bookkeeping, most of a not_null test's time
    (README "Performance"). Returns one row per column that has nulls, with the number of null rows.
    The null rows are count(*) - count(column): count reads a column's validity only, where a sum
    of a case per row cost DuckDB about 3.5 times the CPU (README "Performance"). -#}
{% test not_null_columns(model, columns) %}
    with

    null_counts as (

        select
            {%- for column in columns %}
            count(*) - count({{ column }}) as {{ column }}
            {%- if not loop.last %},{% endif %}
            {%- endfor %}
        from {{ model }}

    ),

    columns_with_nulls as (

        {%- for column in columns %}
        select '{{ column }}' as column_name, {{ column }} as null_rows
        from null_counts
        where {{ column }} > 0
        {%- if not loop.last %}

        union all
        {% endif %}
        {%- endfor %}

    )

    select * from columns_with_nulls
{% endtest %}
