{#- SQL literals of Jinja values (int_run_parameters): a string with its quotes doubled, a list
    of strings as a varchar[], and any value as `data_type` (varchar, date from
    'YYYY-MM-DD', integer, double, ...). -#}
{% macro string_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro string_list_literal(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
    {%- do quoted.append(string_literal(value)) -%}
    {%- endfor -%}
    {{ string_array_literal(quoted) }}
{%- endmacro %}

{% macro typed_literal(value, data_type) -%}
    {%- if data_type == 'varchar' -%}
        {{ string_literal(value) }}
    {%- elif data_type == 'date' -%}
        cast({{ string_literal(value) }} as date)
    {%- elif data_type == 'varchar[]' -%}
        {{ string_list_literal(value) }}
    {%- else -%}
        cast({{ value }} as {{ data_type }})
    {%- endif -%}
{%- endmacro %}
