with

spells as (

    select * from {{ ref('int_customer_base_spells_collapsed') }}

),

spell_starts as (

    -- +1: a spell starts on the day of acquisition or reactivation
    select
        spell_start_date as movement_date,
        case when is_reactivation then 0 else 1 end as acquired_customers,
        case when is_reactivation then 1 else 0 end as reactivated_customers,
        0 as lapsed_customers

    from spells

),

spell_ends as (

    -- -1: the spell ends on its lapse day, once that day is on or before the as-of date
    select
        lapse_date as movement_date,
        0 as acquired_customers,
        0 as reactivated_customers,
        1 as lapsed_customers

    from spells
    where is_lapsed

),

movements as (

    select * from spell_starts
    union all
    select * from spell_ends

),

daily_movements as (

    select
        movement_date,
        cast(sum(acquired_customers) as bigint) as acquired_customers,
        cast(sum(reactivated_customers) as bigint) as reactivated_customers,
        cast(sum(lapsed_customers) as bigint) as lapsed_customers

    from movements
    group by movement_date

),

final as (

    select
        movement_date,
        acquired_customers,
        reactivated_customers,
        lapsed_customers,
        acquired_customers + reactivated_customers - lapsed_customers as net_change,
        -- the base at the end of movement_date: spells with start <= day < lapse day
        cast(sum(acquired_customers + reactivated_customers - lapsed_customers) over (
            order by movement_date
            rows between unbounded preceding and current row
        ) as bigint) as customers_in_base

    from daily_movements

)

select * from final
