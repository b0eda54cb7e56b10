{#- Rounding of the voice marts (vars voice_share_decimals, voice_score_decimals). -#}

{#- numerator / denominator as a share 0-1; null when the denominator is 0 or null. -#}
{% macro voice_share(numerator, denominator) -%}
    round(cast({{ numerator }} as double) / nullif({{ denominator }}, 0), {{ var('voice_share_decimals') }})
{%- endmacro %}

{#- A score, NPS figure or mean, rounded for reporting. -#}
{% macro voice_round_score(expression) -%}
    round(cast({{ expression }} as double), {{ var('voice_score_decimals') }})
{%- endmacro %}
