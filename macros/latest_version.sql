{#- Keep one row per key from a raw table that holds every loaded version of a record:
    the row of the file loaded last wins (a corrected re-export replaces the older record),
    and within a file the last line wins. -#}
{% macro latest_version(key_columns) -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by _load_id desc, _line desc
    ) = 1
{%- endmacro %}
