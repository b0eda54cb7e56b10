{#- Cross-database macros (README "Running on Spark"): every construct of the models that DuckDB and
    Spark SQL spell differently, with a duckdb__ and a spark__ implementation (adapter.dispatch).
    dbt's own cross-database macros (dbt.dateadd, dbt.datediff, dbt.date_trunc, dbt.last_day) are used
    where they give the same SQL; these are the rest. The duckdb__ versions are the SQL the models had
    before (the compiled DuckDB SQL is unchanged in meaning and cost). -#}


{#- Stop the query with `message` (a SQL string expression): DuckDB error(), Spark raise_error(). -#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'customer_value')(message)) }}
{%- endmacro %}

{% macro duckdb__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}


{#- A date as its year and month, 'YYYY-MM' (text). -#}
{% macro format_year_month(date_expression) -%}
    {{ return(adapter.dispatch('format_year_month', 'customer_value')(date_expression)) }}
{%- endmacro %}

{% macro duckdb__format_year_month(date_expression) -%}
    strftime({{ date_expression }}, '%Y-%m')
{%- endmacro %}

{% macro spark__format_year_month(date_expression) -%}
    date_format({{ date_expression }}, 'yyyy-MM')
{%- endmacro %}


{#- True when the text matches the regular expression `pattern` anywhere (a Python string, written
    for DuckDB's RE2; Spark reads it as a Java regex, the same for the classes used here). -#}
{% macro regexp_contains(text_expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains', 'customer_value')(text_expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__regexp_contains(text_expression, pattern) -%}
    regexp_matches({{ text_expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_contains(text_expression, pattern) -%}
    {#- Spark unescapes backslashes in string literals: double them -#}
    {{ text_expression }} rlike '{{ pattern | replace("\\", "\\\\") }}'
{%- endmacro %}


{#- Text holding an instant (with an offset) as the local timestamp in time zone `zone`. -#}
{% macro instant_text_to_zone(text_expression, zone) -%}
    {{ return(adapter.dispatch('instant_text_to_zone', 'customer_value')(text_expression, zone)) }}
{%- endmacro %}

{% macro duckdb__instant_text_to_zone(text_expression, zone) -%}
    timezone('{{ zone }}', cast({{ text_expression }} as timestamptz))
{%- endmacro %}

{% macro spark__instant_text_to_zone(text_expression, zone) -%}
    {#- the profile's session time zone is UTC: the instant's UTC wall clock, moved to the zone -#}
    from_utc_timestamp(cast({{ text_expression }} as timestamp), '{{ zone }}')
{%- endmacro %}


{#- A date plus a number of days (a date). -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'customer_value')(date_expression, days)) }}
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days) -%}
    {{ date_expression }} + {{ days }}
{%- endmacro %}

{% macro spark__add_days(date_expression, days) -%}
    date_add({{ date_expression }}, {{ days }})
{%- endmacro %}


{#- The days from one date to a later one (an integer: end - start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'customer_value')(start_date, end_date)) }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    {{ end_date }} - {{ start_date }}
{%- endmacro %}

{% macro spark__days_between(start_date, end_date) -%}
    datediff({{ end_date }}, {{ start_date }})
{%- endmacro %}


{#- A date plus a number of months (negative: minus), clamped to the month's last day like
    DuckDB's date + interval and Spark's add_months; cast it to a date where a date is wanted. -#}
{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'customer_value')(date_expression, months)) }}
{%- endmacro %}

{% macro duckdb__add_months(date_expression, months) -%}
    {{ date_expression }} + interval ({{ months }}) month
{%- endmacro %}

{% macro spark__add_months(date_expression, months) -%}
    add_months({{ date_expression }}, {{ months }})
{%- endmacro %}


{#- A select-list item: one row per date from `start_date` to `end_date` (both included) in steps
    of one `grain` (day, month, quarter, year), as a date. Spark: a generator, so it cannot be
    nested in another expression (cast inside the macro). -#}
{% macro date_series(start_date, end_date, grain) -%}
    {{ return(adapter.dispatch('date_series', 'customer_value')(start_date, end_date, grain)) }}
{%- endmacro %}

{% macro duckdb__date_series(start_date, end_date, grain) -%}
    cast(unnest(generate_series({{ start_date }}, {{ end_date }}, interval 1 {{ grain }})) as date)
{%- endmacro %}

{% macro spark__date_series(start_date, end_date, grain) -%}
    {%- set step = {'day': 'interval 1 day', 'month': 'interval 1 month', 'quarter': 'interval 3 month',
                    'year': 'interval 1 year'}[grain] -%}
    explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), {{ step }}))
{%- endmacro %}


{#- A select-list item: one row per integer from `first` up to `last` (both included); none when
    last < first. -#}
{% macro integer_series(first, last) -%}
    {{ return(adapter.dispatch('integer_series', 'customer_value')(first, last)) }}
{%- endmacro %}

{% macro duckdb__integer_series(first, last) -%}
    unnest(generate_series({{ first }}, {{ last }}))
{%- endmacro %}

{% macro spark__integer_series(first, last) -%}
    {#- sequence() counts down when last < first: keep the values in [first, last] (none then) -#}
    explode(filter(sequence({{ first }}, {{ last }}), value -> value between {{ first }} and {{ last }}))
{%- endmacro %}


{#- As-of join: each row of the left side gets the row of `relation` with the latest `right_column`
    on or before `left_value` (and equal `equalities`, pairs of (left, right column) expressions),
    or nulls. DuckDB's ASOF LEFT JOIN; Spark has none: a left join on the window [right_column,
    next right_column) of each row, with the next value by lead(). `relation` is a CTE or relation
    name; its rows are selected by `alias`. -#}
{% macro asof_left_join(relation, alias, left_value, right_column, equalities=[]) -%}
    {{ return(adapter.dispatch('asof_left_join', 'customer_value')(relation, alias, left_value, right_column, equalities)) }}
{%- endmacro %}

{% macro duckdb__asof_left_join(relation, alias, left_value, right_column, equalities) -%}
    asof left join {{ relation }} as {{ alias }}
        on
        {%- for left, right in equalities %} {{ alias }}.{{ right }} = {{ left }} and{% endfor %}
        {{ alias }}.{{ right_column }} <= {{ left_value }}
{%- endmacro %}

{% macro spark__asof_left_join(relation, alias, left_value, right_column, equalities) -%}
    {%- set partition = equalities | map(attribute=1) | join(', ') %}
    left join (
        select
            *,
            lead({{ right_column }}) over (
                {% if partition %}partition by {{ partition }} {% endif %}order by {{ right_column }}
            ) as asof_next_{{ right_column }}
        from {{ relation }}
    ) as {{ alias }}
        on
        {%- for left, right in equalities %} {{ alias }}.{{ right }} = {{ left }} and{% endfor %}
        {{ alias }}.{{ right_column }} <= {{ left_value }}
        and ({{ alias }}.asof_next_{{ right_column }} is null or {{ alias }}.asof_next_{{ right_column }} > {{ left_value }})
{%- endmacro %}


{#- A list of strings as an array literal (int_run_parameters). -#}
{% macro string_array_literal(quoted_values) -%}
    {{ return(adapter.dispatch('string_array_literal', 'customer_value')(quoted_values)) }}
{%- endmacro %}

{% macro duckdb__string_array_literal(quoted_values) -%}
    cast([{{ quoted_values | join(', ') }}] as varchar[])
{%- endmacro %}

{% macro spark__string_array_literal(quoted_values) -%}
    cast(array({{ quoted_values | join(', ') }}) as array<string>)
{%- endmacro %}


{#- The placeholder rows of incremental strategy replace_keys (macros/incremental.sql): appended
    to a model's rows, one row per key of `key_query` (a select of the one column `key_column`)
    with every other column null. DuckDB matches the columns by name; Spark's SQL has no union by
    name, so the columns of the existing table (`this`, same columns: on_schema_change='fail') are
    listed. -#}
{% macro union_placeholder_rows(key_query, key_column) -%}
    {{ return(adapter.dispatch('union_placeholder_rows', 'customer_value')(key_query, key_column)) }}
{%- endmacro %}

{% macro duckdb__union_placeholder_rows(key_query, key_column) -%}
    union all by name
    {{ key_query }}
{%- endmacro %}

{% macro spark__union_placeholder_rows(key_query, key_column) -%}
    union all
    select
        {%- for column in adapter.get_columns_in_relation(this) %}
        {% if column.name == key_column -%}
        placeholder_keys.{{ key_column }}
        {%- else -%}
        cast(null as {{ column.data_type }}) as {{ column.name }}
        {%- endif %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ({{ key_query }}) as placeholder_keys
{%- endmacro %}
