{#- Generic test: none of `columns` is null. One test (one dbt node, one scan) per model instead of
    a not_null test per column: each dbt node costs bookkeeping, most of a not_null test's time
    (README "Performance"). Returns one row per column that has nulls, with the number of null rows. -#}
{% test not_null_columns(model, columns) %}
    with

    null_counts as (

        select
            {%- for column in columns %}
            sum(case when {{ column }} is null then 1 else 0 end) as {{ column }}
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
