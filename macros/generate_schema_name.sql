{#- Use the custom schema name as it is (staging, intermediate, marts), not <target>_<custom>,
    so that BI tools see stable names: marts.customers, marts.customer_audit_figures. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
