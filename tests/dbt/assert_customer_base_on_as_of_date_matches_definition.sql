-- The base on the as-of date counted straight from the definition (distinct customers with a completed
-- order on one of the W days ending on the as-of date, from staging) must equal customers_end of the
-- last period of every grain and the number of customers with is_in_base in marts.customers.

with

as_of as (

    select as_of_date from {{ ref('int_as_of_date_resolved') }}

),

base_by_definition as (

    select count(distinct orders.customer_id) as customers_in_base

    from {{ ref('stg_crm__orders') }} as orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date
        and orders.order_date > cast({{ dbt.dateadd('day', -var('churn_window_days'), 'as_of.as_of_date') }} as date)
    where orders.order_status = 'completed'

),

base_by_figures as (

    select
        'customer_audit_figures ' || period_grain as source_name,
        customers_end as customers_in_base

    from {{ ref('customer_audit_figures') }}
    where period_end = as_of_date

    union all

    select
        'customers' as source_name,
        count(*) filter (where is_in_base) as customers_in_base

    from {{ ref('customers') }}

)

select
    base_by_figures.source_name,
    base_by_figures.customers_in_base,
    base_by_definition.customers_in_base as customers_in_base_by_definition

from base_by_figures
cross join base_by_definition
where base_by_figures.customers_in_base <> base_by_definition.customers_in_base
