with

history as (

    select * from {{ ref('customer_persona_history') }}

),

snapshot_months as (

    select distinct snapshot_month from history

),

month_pairs as (

    -- each snapshot is compared with the one before it (the previous month, or the latest earlier
    -- snapshot when months are missing from the history)
    select
        snapshot_month,
        lag(snapshot_month) over (
            order by snapshot_month
        ) as previous_snapshot_month

    from snapshot_months

),

current_assignments as (

    select
        history.customer_id,
        history.snapshot_month,
        history.persona

    from history

),

previous_assignments as (

    select
        history.customer_id,
        month_pairs.snapshot_month,
        history.persona

    from history
    inner join month_pairs
        on history.snapshot_month = month_pairs.previous_snapshot_month

),

compared as (

    select
        coalesce(current_assignments.snapshot_month, previous_assignments.snapshot_month) as snapshot_month,
        coalesce(previous_assignments.persona, 'none') as from_persona,
        coalesce(current_assignments.persona, 'none') as to_persona

    from current_assignments
    full outer join previous_assignments
        on current_assignments.customer_id = previous_assignments.customer_id
        and current_assignments.snapshot_month = previous_assignments.snapshot_month

),

transitions as (

    select
        snapshot_month,
        from_persona,
        to_persona,
        count(*) as customers

    from compared
    group by all

),

final as (

    select
        transitions.snapshot_month,
        month_pairs.previous_snapshot_month,
        coalesce(
            month_pairs.previous_snapshot_month = cast({{ add_months('transitions.snapshot_month', -1) }} as date),
            false
        ) as is_previous_month,
        transitions.from_persona,
        transitions.to_persona,
        transitions.customers,
        round(
            cast(transitions.customers as double) / sum(transitions.customers) over (
                partition by transitions.snapshot_month, transitions.from_persona
            ),
            {{ var('value_share_decimals') }}
        ) as share_of_from_persona

    from transitions
    inner join month_pairs using (snapshot_month)

)

select * from final
