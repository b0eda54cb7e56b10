-- The balance identity of the customer base: for every period,
-- customers_end = customers_start + net_new_customers and net_new = gross_new + reactivated - lost.
-- customers_start and customers_end are counted independently (base on s - 1 and on e), so this fails
-- when the flows and the base disagree.

select
    period_grain,
    period_start,
    customers_start,
    gross_new_customers,
    reactivated_customers,
    lost_customers,
    net_new_customers,
    customers_end

from {{ ref('customer_audit_figures') }}
where customers_end <> customers_start + net_new_customers
    or net_new_customers <> gross_new_customers + reactivated_customers - lost_customers
