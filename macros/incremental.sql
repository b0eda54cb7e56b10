{#- Incremental models over the loaded exports (README "Incremental runs").

    raw.<entity> keeps every version of every record, each with the load (_load_id) that brought
    it; load ids only grow. Only staging reads raw: the version bookkeeping of the orders is
    stg_crm__order_versions. An incremental model remembers the latest load it has processed as
    max(load_id) over its own rows, and on the next run processes only what later loads touched. -#}

{#- The latest load the incremental model has processed (0 when it is empty). -#}
{% macro load_watermark(column='load_id') -%}
    (select coalesce(max({{ column }}), 0) from {{ this }})
{%- endmacro %}


{#- Customers with an order version loaded after the last load the incremental model (`this`,
    with a load_id column) has processed: every customer each such order ever belonged to, so
    that a corrected re-export that moves an order to another customer refreshes both. The
    versions come from stg_crm__order_versions (a model that calls this declares
    `-- depends_on: {{ ref('stg_crm__order_versions') }}`: refs inside is_incremental() are not
    seen when dbt parses). -#}
{% macro customers_with_new_order_versions() -%}
    select order_versions.customer_id
    from {{ ref('stg_crm__order_versions') }} as order_versions
    where order_versions.order_id in (
        select new_versions.order_id
        from {{ ref('stg_crm__order_versions') }} as new_versions
        where new_versions.load_id > {{ load_watermark() }}
    )
{%- endmacro %}


{#- Customers whose completed orders the as-of date crossed since the incremental model (`this`)
    was built, for models over completed orders on or before the as-of date; `this` has a column
    `last_order_date_column`, the latest order day a row covers:
    - the as-of date moved forward: completed orders on days after those the model covers, up to
      the new as-of date;
    - the as-of date moved back before days the model covers. -#}
{% macro customers_crossed_by_as_of_date(last_order_date_column) -%}
    {{ keys_crossed_by_as_of_date(
        ref('stg_crm__orders'), 'customer_id', 'order_date', last_order_date_column,
        source_filter="source_rows.order_status = 'completed'"
    ) }}
{%- endmacro %}


{#- Incremental strategy 'replace_keys' (config incremental_strategy='replace_keys', unique_key,
    placeholder_column): every row of the target whose unique_key appears among the new rows is
    deleted, then the new rows are inserted, except placeholder rows (placeholder_column null).
    A model emits one placeholder row per key it recomputes, so that a key left without rows
    (a customer whose only completed order was refunded) loses its old rows too. -#}
{% macro get_incremental_replace_keys_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- set placeholder_column = config.require('placeholder_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- if not unique_key or unique_key is not string -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_keys' needs one unique_key column") }}
    {%- endif %}
    delete from {{ target }}
    where {{ unique_key }} in (select {{ unique_key }} from {{ new_rows }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ new_rows }}
    where {{ placeholder_column }} is not null
{%- endmacro %}


{#- Keys of the rows of `relation` whose `date_column` the as-of date crossed since the incremental
    model (`this`) was built. `this` has the key column and `this_date_column` (default
    `date_column`), the latest date a row covers; it counts only rows dated on or before the as-of
    date. The keys are those of rows dated after every date the model covers, up to the new as-of
    date (the as-of date moved forward over them), and of the model's rows dated after the new as-of
    date (it moved back). A row of `relation` dated on or before the latest date the model covers is
    in the model already, unless a later load brought it (the model's load watermark covers those).
    `source_filter`: a condition on `source_rows` for the rows the model counts (e.g. completed orders). -#}
{% macro keys_crossed_by_as_of_date(relation, key_column, date_column, this_date_column=none, source_filter=none) -%}
    {%- set this_date_column = this_date_column or date_column -%}
    select source_rows.{{ key_column }}
    from {{ relation }} as source_rows
    cross join {{ ref('int_as_of_date_resolved') }} as as_of
    where {% if source_filter %}{{ source_filter }}
        and {% endif %}source_rows.{{ date_column }} > (select max({{ this_date_column }}) from {{ this }})
        and source_rows.{{ date_column }} <= as_of.as_of_date

    union

    select existing.{{ key_column }}
    from {{ this }} as existing
    cross join {{ ref('int_as_of_date_resolved') }} as as_of
    where existing.{{ this_date_column }} > as_of.as_of_date
{%- endmacro %}
