{#- The personas, their rules and their precedence (docs/personas_and_value.md): the single
    definition. The rules are listed in order of precedence; the first that holds gives the
    customer's persona and persona_rule (<persona>_<rule>). `condition` is a flag computed by
    customer_personas (its CTE rules_evaluated, with the persona_* thresholds); the last rule has
    no condition and takes everyone else. A persona's matches_<persona> column is true when one of
    its conditions holds. -#}
{% macro persona_rules() -%}
    {{ return([
        {'persona': 'lapsed', 'rule': 'out_of_base', 'condition': 'not is_in_base'},
        {'persona': 'at_risk', 'rule': 'detractor', 'condition': 'coalesce(is_detractor_in_base, false)'},
        {'persona': 'at_risk', 'rule': 'hard_service', 'condition': 'has_recent_hard_service_in_base'},
        {'persona': 'at_risk', 'rule': 'low_p_alive', 'condition': 'coalesce(is_p_alive_low_in_base, false)'},
        {'persona': 'ambassador', 'rule': 'promoter', 'condition': 'coalesce(is_promoter_repeat_in_base, false)'},
        {'persona': 'ambassador', 'rule': 'referrer', 'condition': 'has_referred_buyers'},
        {'persona': 'price_shopper', 'rule': 'one_off_discounted', 'condition': 'is_one_off_discounted'},
        {'persona': 'price_shopper', 'rule': 'mostly_discounted', 'condition': 'is_mostly_discounted'},
        {'persona': 'new', 'rule': 'recently_acquired', 'condition': 'is_recently_acquired'},
        {'persona': 'loyal_passive', 'rule': 'repeat', 'condition': 'is_passive_repeat_in_base'},
        {'persona': 'loyal_passive', 'rule': 'other', 'condition': none},
    ]) }}
{%- endmacro %}

{#- The six personas in their order of precedence, from persona_rules: lapsed, at_risk, ambassador,
    price_shopper, new, loyal_passive. Marts list every persona, also one without customers. -#}
{% macro persona_names() -%}
    {%- set names = [] -%}
    {%- for rule in persona_rules() if rule.persona not in names -%}
        {%- do names.append(rule.persona) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- The condition of matches_<persona>: one of the persona's rules holds, whatever the precedence. -#}
{% macro persona_match_condition(persona) -%}
    {{ persona_rules()
        | selectattr('persona', 'equalto', persona)
        | rejectattr('condition', 'none')
        | map(attribute='condition')
        | join(' or ') }}
{%- endmacro %}

{#- The matches_<persona> columns of customer_personas, one per persona in order of precedence,
    separated by commas and line breaks indented for a select list. -#}
{% macro persona_match_columns(indent='        ') -%}
    {%- set columns = [] -%}
    {%- for persona in persona_names() -%}
        {%- do columns.append(persona_match_condition(persona) ~ ' as matches_' ~ persona) -%}
    {%- endfor -%}
    {{ columns | join(',\n' ~ indent) }}
{%- endmacro %}

{#- A values list (persona, persona_order) of the personas, for a CTE. -#}
{% macro persona_values() -%}
    select * from (values
    {%- for persona in persona_names() %}
        ('{{ persona }}', {{ loop.index }}){% if not loop.last %},{% endif %}
    {%- endfor %}
    ) as personas (persona, persona_order)
{%- endmacro %}
