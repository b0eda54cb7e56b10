-- Every customer of a snapshot month arrives from somewhere (a persona or 'none'), and every
-- customer of the previous snapshot goes somewhere: per snapshot month, the transitions into a
-- persona add up to the month's history rows, and those out of a persona to the previous
-- snapshot's rows. Returns the months that do not add up.
with

history as (

    select * from {{ ref('customer_persona_history') }}

),

transitions as (

    select * from {{ ref('persona_transitions') }}

),

snapshot_customers as (

    select snapshot_month, count(*) as customers
    from history
    group by snapshot_month

),

transition_sums as (

    select
        snapshot_month,
        previous_snapshot_month,
        sum(customers) filter (where to_persona != 'none') as customers_in,
        sum(customers) filter (where from_persona != 'none') as customers_from_previous

    from transitions
    group by snapshot_month, previous_snapshot_month

),

final as (

    select
        transition_sums.*,
        current_snapshot.customers as snapshot_customers,
        previous_snapshot.customers as previous_snapshot_customers

    from transition_sums
    left join snapshot_customers as current_snapshot
        on transition_sums.snapshot_month = current_snapshot.snapshot_month
    left join snapshot_customers as previous_snapshot
        on transition_sums.previous_snapshot_month = previous_snapshot.snapshot_month
    where coalesce(transition_sums.customers_in, 0) != coalesce(current_snapshot.customers, 0)
        or coalesce(transition_sums.customers_from_previous, 0) != coalesce(previous_snapshot.customers, 0)

)

select * from final
