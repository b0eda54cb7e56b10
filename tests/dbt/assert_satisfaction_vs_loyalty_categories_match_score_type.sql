-- Every category of satisfaction_vs_loyalty belongs to its score type (the categories of macro
-- score_categories: promoter / passive / detractor for nps, and so on). Returns the rows whose
-- category is not one of its score type's.
{%- set pairs = [] -%}
{%- for score_type, names in score_categories().items() -%}
{%- for name in names -%}
{%- do pairs.append("('" ~ score_type ~ "', '" ~ name ~ "')") -%}
{%- endfor -%}
{%- endfor %}

with

figures as (

    select * from {{ ref('satisfaction_vs_loyalty') }}

),

final as (

    select
        score_type,
        category

    from figures
    where (score_type, category) not in ({{ pairs | join(', ') }})

)

select * from final
