{#- The exchange rate to the reporting currency of `currency_column` in the month of `date_column`,
    from an ASOF-joined seed alias `rate_alias` (the latest rate on or before that month).
    A currency without a rate stops the build with an error naming it: amounts are never dropped. -#}
{% macro exchange_rate(currency_column, date_column, rate_alias='rates') -%}
    case
        when {{ currency_column }} is null or {{ currency_column }} = '{{ var("reporting_currency") }}' then 1
        when {{ rate_alias }}.rate is not null then {{ rate_alias }}.rate
        else {{ raise_error(
            "'no exchange rate for currency ' || " ~ currency_column ~ " || ' in '
            || " ~ format_year_month(date_column) ~ "
            || ' in seeds/currency_rates.csv (reporting currency " ~ var('reporting_currency') ~ ")'"
        ) }}
    end
{%- endmacro %}

{#- ASOF join of the currency-rates seed on currency and month (macros/cross_db: a window join on
    engines without ASOF). -#}
{% macro join_exchange_rates(currency_column, date_column, rate_alias='rates') -%}
    {{ asof_left_join(ref('currency_rates'), rate_alias, date_column, 'month', [(currency_column, 'currency')]) }}
{%- endmacro %}
