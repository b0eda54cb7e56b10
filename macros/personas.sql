{#- The five personas in their order of precedence (docs/personas_and_value.md): the first whose
    rule holds is the customer's persona. Marts list every persona, also one without customers. -#}
{% macro persona_names() -%}
    {{ return(['at_risk', 'ambassador', 'price_shopper', 'new', 'loyal_passive']) }}
{%- endmacro %}

{#- A values list (persona, persona_order) of the personas, for a CTE. -#}
{% macro persona_values() -%}
    select * from (values
    {%- for persona in persona_names() %}
        ('{{ persona }}', {{ loop.index }}){% if not loop.last %},{% endif %}
    {%- endfor %}
    ) as personas (persona, persona_order)
{%- endmacro %}
