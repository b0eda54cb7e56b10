{#- Keep one row per key from a raw table that holds every loaded version of a record:
    the row of the file loaded last wins (a corrected re-export replaces the older record),
    and within a file the last line wins. A select of the rows of `relation` to keep; on engines
    without QUALIFY (Spark) with one more column, version_rank (1): callers list their columns. -#}
{% macro latest_version(relation, key_columns) -%}
    {{ return(adapter.dispatch('latest_version', 'customer_value')(relation, key_columns)) }}
{%- endmacro %}

{% macro duckdb__latest_version(relation, key_columns) -%}
    select * from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _load_id desc, _line desc
    ) = 1
{%- endmacro %}

{% macro spark__latest_version(relation, key_columns) -%}
    select * from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _load_id desc, _line desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{%- endmacro %}
