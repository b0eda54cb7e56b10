{#- Categories of survey scores, with the cut-offs in dbt_project.yml (vars voice_*). A null score
    has no category. The NPS cut-offs also apply to a mean of NPS answers (8.5 is passive). -#}

{#- NPS = 100 x (promoters - detractors) / NPS answers, -100 ... 100; null without answers. -#}
{% macro net_promoter_score(promoters, detractors, answers) -%}
    100.0 * {{ safe_divide(promoters ~ ' - ' ~ detractors, answers) }}
{%- endmacro %}

{% macro nps_category(score) -%}
    case
        when {{ score }} >= {{ var('voice_nps_promoter_min') }} then 'promoter'
        when {{ score }} >= {{ var('voice_nps_passive_min') }} then 'passive'
        when {{ score }} is not null then 'detractor'
    end
{%- endmacro %}

{% macro ces_category(score) -%}
    case
        when {{ score }} >= {{ var('voice_ces_easy_min') }} then 'easy'
        when {{ score }} > {{ var('voice_ces_hard_max') }} then 'neutral'
        when {{ score }} is not null then 'hard'
    end
{%- endmacro %}

{% macro csat_category(score) -%}
    case
        when {{ score }} >= {{ var('voice_csat_satisfied_min') }} then 'satisfied'
        when {{ score }} > {{ var('voice_csat_dissatisfied_max') }} then 'neutral'
        when {{ score }} is not null then 'dissatisfied'
    end
{%- endmacro %}
