{#- Rounding of the voice marts (vars voice_share_decimals, voice_score_decimals). Divisions go
    through safe_divide, like every other figure: null when the denominator is 0 or null; the
    rounding through round_double (macros/cross_db/round_double.sql: Spark rounds as DuckDB). -#}

{#- numerator / denominator as a share 0-1. -#}
{% macro voice_share(numerator, denominator) -%}
    {{ round_double(safe_divide('cast(' ~ numerator ~ ' as double)', denominator), var('voice_share_decimals')) }}
{%- endmacro %}

{#- A score, NPS figure or mean, rounded for reporting. -#}
{% macro voice_round_score(expression) -%}
    {{ round_double('cast(' ~ expression ~ ' as double)', var('voice_score_decimals')) }}
{%- endmacro %}
