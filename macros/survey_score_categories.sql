{#- Categories of survey scores, with the cut-offs in dbt_project.yml (vars voice_*). A null score
    has no category. The NPS cut-offs also apply to a mean of NPS answers (8.5 is passive). -#}

{#- The categories of each score type, from the highest scores to the lowest: the single
    definition of their names (the category macros below, int_run_parameters). -#}
{% macro score_categories() -%}
    {{ return({
        'nps': ['promoter', 'passive', 'detractor'],
        'ces': ['easy', 'neutral', 'hard'],
        'csat': ['satisfied', 'neutral', 'dissatisfied'],
    }) }}
{%- endmacro %}

{#- NPS = 100 x (promoters - detractors) / NPS answers, -100 ... 100; null without answers. -#}
{% macro net_promoter_score(promoters, detractors, answers) -%}
    100.0 * {{ safe_divide(promoters ~ ' - ' ~ detractors, answers) }}
{%- endmacro %}

{#- promoter from voice_nps_promoter_min, passive from voice_nps_passive_min, detractor below. -#}
{% macro nps_category(score) -%}
    {%- set categories = score_categories()['nps'] -%}
    case
        when {{ score }} >= {{ var('voice_nps_promoter_min') }} then '{{ categories[0] }}'
        when {{ score }} >= {{ var('voice_nps_passive_min') }} then '{{ categories[1] }}'
        when {{ score }} is not null then '{{ categories[2] }}'
    end
{%- endmacro %}

{#- easy from voice_ces_easy_min, hard up to voice_ces_hard_max, neutral in between. -#}
{% macro ces_category(score) -%}
    {%- set categories = score_categories()['ces'] -%}
    case
        when {{ score }} >= {{ var('voice_ces_easy_min') }} then '{{ categories[0] }}'
        when {{ score }} > {{ var('voice_ces_hard_max') }} then '{{ categories[1] }}'
        when {{ score }} is not null then '{{ categories[2] }}'
    end
{%- endmacro %}

{#- satisfied from voice_csat_satisfied_min, dissatisfied up to voice_csat_dissatisfied_max,
    neutral in between. -#}
{% macro csat_category(score) -%}
    {%- set categories = score_categories()['csat'] -%}
    case
        when {{ score }} >= {{ var('voice_csat_satisfied_min') }} then '{{ categories[0] }}'
        when {{ score }} > {{ var('voice_csat_dissatisfied_max') }} then '{{ categories[1] }}'
        when {{ score }} is not null then '{{ categories[2] }}'
    end
{%- endmacro %}
