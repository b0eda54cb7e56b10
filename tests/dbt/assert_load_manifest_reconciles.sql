-- Nothing is lost between an export file and the warehouse: for every loaded file,
-- rows read = rows loaded + rows quarantined, and those counts match the rows that are
-- actually in raw.<entity> and raw.quarantine for that load.

with

manifest as (

    select * from {{ source('loader', 'load_manifest') }}

),

raw_rows as (

    select _load_id as load_id, count(*) as rows_in_raw
    from {{ source('crm', 'customers') }}
    group by 1
    union all
    select _load_id, count(*)
    from {{ source('crm', 'orders') }}
    group by 1
    union all
    select _load_id, count(*)
    from {{ source('crm', 'contacts') }}
    group by 1
    union all
    select _load_id, count(*)
    from {{ source('crm', 'marketing_spend') }}
    group by 1
    union all
    select _load_id, count(*)
    from {{ source('survey', 'survey_responses') }}
    group by 1

),

quarantined_rows as (

    select load_id, count(*) as rows_in_quarantine
    from {{ source('loader', 'quarantine') }}
    group by 1

),

final as (

    select
        manifest.load_id,
        manifest.file_name,
        manifest.rows_read,
        manifest.rows_loaded,
        manifest.rows_quarantined,
        coalesce(raw_rows.rows_in_raw, 0) as rows_in_raw,
        coalesce(quarantined_rows.rows_in_quarantine, 0) as rows_in_quarantine

    from manifest
    left join raw_rows using (load_id)
    left join quarantined_rows using (load_id)

)

select * from final
where rows_read != rows_loaded + rows_quarantined
    or rows_loaded != rows_in_raw
    or rows_quarantined != rows_in_quarantine
