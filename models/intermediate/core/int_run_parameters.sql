{#- The parameters a run used, for the Python side (Great Expectations suites, run summary): one
    row, and the same values in config meta (nodes['model.customer_value.int_run_parameters']
    ['config']['meta'] of target/manifest.json after `dbt parse`). Every var of dbt_project.yml is
    listed below with its column type, in the order of dbt_project.yml (as_of_date apart: the
    resolved date comes from int_as_of_date_resolved); a new var belongs here too. The fixed lists
    come from the macros that define them. -#}
{%- set main_vars = {
    'churn_window_days': 'integer',
    'reporting_currency': 'varchar',
    'reporting_timezone': 'varchar',
    'reporting_locale': 'varchar',
} -%}
{%- set other_vars = {
    'voice_nps_promoter_min': 'integer',
    'voice_nps_passive_min': 'integer',
    'voice_ces_easy_min': 'integer',
    'voice_ces_hard_max': 'integer',
    'voice_csat_satisfied_min': 'integer',
    'voice_csat_dissatisfied_max': 'integer',
    'voice_nps_confidence_z': 'double',
    'voice_rolling_nps_months': 'integer',
    'voice_repeat_contact_days': 'integer',
    'voice_effortful_transfers_min': 'integer',
    'voice_score_decimals': 'integer',
    'voice_share_decimals': 'integer',
    'persona_recent_days': 'integer',
    'persona_repeat_min_orders': 'integer',
    'persona_ambassador_min_referred_buyers': 'integer',
    'persona_passive_max_contacts': 'integer',
    'persona_interaction_days': 'integer',
    'persona_price_shopper_discount_share': 'double',
    'persona_new_days': 'integer',
    'concentration_target_revenue_share': 'double',
    'value_share_decimals': 'integer',
    'acquisition_revenue_months': 'integer',
    'earliest_plausible_date': 'date',
    'days_after_load_day': 'integer',
    'max_monthly_lapse_share': 'double',
    'lapse_share_min_customers_start': 'integer',
    'max_periods_per_grain': 'integer',
    'min_revenue_per_order': 'decimal(18, 2)',
    'max_revenue_per_order': 'decimal(18, 2)',
    'freshness_customers_warn_days': 'integer',
    'freshness_customers_error_days': 'integer',
    'freshness_orders_warn_days': 'integer',
    'freshness_orders_error_days': 'integer',
    'freshness_contacts_warn_days': 'integer',
    'freshness_contacts_error_days': 'integer',
    'freshness_survey_responses_warn_days': 'integer',
    'freshness_survey_responses_error_days': 'integer',
    'freshness_marketing_spend_warn_days': 'integer',
    'freshness_marketing_spend_error_days': 'integer',
    'exposure_owner_name': 'varchar',
    'exposure_owner_email': 'varchar',
    'clv_time_unit_days': 'integer',
    'clv_calibration_end': 'varchar',
    'clv_horizon_months': 'integer',
    'clv_annual_discount_rate': 'double',
    'gross_margin_rate': 'double',
    'referral_incremental_share': 'double',
    'knowledge_value_per_survey_comment': 'double',
    'knowledge_value_per_problem_contact': 'double',
    'knowledge_problem_contact_reasons': 'varchar[]',
    'service_cost_per_contact': 'double',
    'service_cost_per_transfer': 'double',
    'persona_at_risk_p_alive_below': 'double',
} -%}
{%- set categories = score_categories() -%}
{%- set fixed_lists = {
    'period_grains': reporting_period_grains(),
    'persona_names': persona_names(),
    'nps_categories': categories['nps'],
    'ces_categories': categories['ces'],
    'csat_categories': categories['csat'],
} -%}
{#- config meta and the select list: the var as_of_date, the main vars, the fixed lists, the other vars -#}
{%- set meta = {'as_of_date': var('as_of_date')} -%}
{%- set columns = [string_literal(var('as_of_date')) ~ ' as as_of_date_var'] -%}
{%- for name, data_type in main_vars.items() -%}
{%- do meta.update({name: var(name)}) -%}
{%- do columns.append(typed_literal(var(name), data_type) ~ ' as ' ~ name) -%}
{%- endfor -%}
{%- for name, values in fixed_lists.items() -%}
{%- do meta.update({name: values}) -%}
{%- do columns.append(string_list_literal(values) ~ ' as ' ~ name) -%}
{%- endfor -%}
{%- for name, data_type in other_vars.items() -%}
{#- a varchar var as its text in meta: a YAML date (clv_calibration_end: 1997-09-30) is no JSON value -#}
{%- do meta.update({name: var(name) | string if data_type == 'varchar' else var(name)}) -%}
{%- do columns.append(typed_literal(var(name), data_type) ~ ' as ' ~ name) -%}
{%- endfor -%}
{{ config(meta=meta) }}

with

as_of as (

    select * from {{ ref('int_as_of_date_resolved') }}

),

final as (

    select
        as_of.as_of_date,
        as_of.is_as_of_date_set,
        -- as_of_date_var: var as_of_date as given ('' when the last completed order's date is the as-of date)
        {{ columns | join(',\n        ') }}

    from as_of

)

select * from final
