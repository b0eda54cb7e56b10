{#- A timestamp exported as text, as local time in the reporting time zone.
    Text with an offset (Z, +01:00, -0500) is an instant and is converted to the zone;
    text without one is already local time there. -#}
{% macro to_reporting_time(column) -%}
    case
        when {{ regexp_contains(column, '[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
            then {{ instant_text_to_zone(column, var("reporting_timezone")) }}
        else cast({{ column }} as timestamp)
    end
{%- endmacro %}
