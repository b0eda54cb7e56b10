{#- What the Spark adapter (dbt-spark, plain Parquet tables) needs beyond macros/cross_db/cross_db.sql
    (README "Running on Spark"). None of these is used on DuckDB. -#}


{#- Contracts and casts name `varchar` (DuckDB's text type); Spark needs a length for it, its text
    type is `string`. dbt's cast() renders the contracts' empty-schema query. -#}
{% macro spark__cast(field, type) -%}
    {%- set spark_type = 'string' if type | trim | lower == 'varchar' else type -%}
    cast({{ field }} as {{ spark_type }})
{%- endmacro %}


{#- dbt-spark knows the strategies append, merge, insert_overwrite and microbatch; the project's
    incremental models use replace_keys (macros/incremental.sql) and delete+insert, which on plain
    Parquet tables (no MERGE, no DELETE) are written as a rewrite of the table: the kept rows of the
    target and the new rows into a second table, then INSERT OVERWRITE (Spark does not overwrite a
    table it reads in the same statement). The work saved is the model's query, which only
    recomputes the keys of the new loads; the whole table is written again. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy in ['replace_keys', 'delete+insert'] -%}
        {{ return(raw_strategy) }}
    {%- endif -%}
    {{ return(dbt.dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format)) }}
{%- endmacro %}

{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- if strategy in ['replace_keys', 'delete+insert'] -%}
        {%- if not unique_key or unique_key is not string -%}
            {{ exceptions.raise_compiler_error("incremental_strategy '" ~ strategy ~ "' on Spark needs one unique_key column") }}
        {%- endif -%}
        {%- set placeholder_column = config.require('placeholder_column') if strategy == 'replace_keys' else none -%}
        {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | join(', ') -%}
        {%- set rewritten = target.incorporate(path={'identifier': target.identifier ~ '__dbt_rewrite'}) -%}
        {%- do run_query('drop table if exists ' ~ rewritten) -%}
        {%- call statement('rewrite_kept_and_new_rows') -%}
            create table {{ rewritten }} using parquet as
            select {{ columns }} from {{ target }} as kept
            where not exists (
                select 1 from {{ source }} as new_rows
                where new_rows.{{ unique_key }} = kept.{{ unique_key }}
            )
            union all
            select {{ columns }} from {{ source }}
            {%- if placeholder_column %}
            where {{ placeholder_column }} is not null
            {%- endif %}
        {%- endcall -%}
        {%- call statement('overwrite_target') -%}
            insert overwrite table {{ target }} select {{ columns }} from {{ rewritten }}
        {%- endcall -%}
        {%- do run_query('drop table if exists ' ~ rewritten) -%}
        refresh table {{ target }}
    {%- else -%}
        {{ dbt.dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) }}
    {%- endif -%}
{%- endmacro %}


{#- Enforced contracts on Spark. The contracts declare the types of the published marts (DuckDB's);
    Spark's SQL gives some of them narrower: int from window functions (row_number, rank, ntile) and
    datediff where DuckDB gives bigint, decimal(28, 2) from a sum of decimal(18, 2) where DuckDB gives
    decimal(38, 2). On Spark a contracted model's columns are therefore cast to the declared types,
    and the contract check is on the names, their order and their number (the types are checked by
    the DuckDB build, and make test-spark compares every value with it). -#}
{% macro spark__get_select_subquery(sql) -%}
    select
    {%- for column in model['columns'].values() %}
        {{ cast(column['name'], column['data_type']) }} as {{ column['name'] }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    from (
        {{ sql }}
    ) as model_subq
{%- endmacro %}

{% macro spark__get_assert_columns_equivalent(sql) -%}
    {%- set declared = model['columns'].values() | map(attribute='name') | list -%}
    {%- set built = get_column_schema_from_query(sql, config.get('sql_header', none)) | map(attribute='name') | list -%}
    {%- if declared != built -%}
        {{ exceptions.raise_compiler_error(
            "contract of " ~ model['name'] ~ ": the model's columns " ~ built | join(', ')
            ~ " are not the declared " ~ declared | join(', ')) }}
    {%- endif -%}
{%- endmacro %}
