with

source as (

    select * from {{ source('raw', 'market_schedule_overrides') }}

),

renamed as (

    select

        ---------- ids
        market_id,

        ---------- text
        rule as schedule_rule,
        season_start,
        season_end,
        note as rule_note,

        ---------- numerics
        day_of_week,

        ---------- dates
        closed_on,

        ---------- timestamps
        loaded_at

    from source

)

select * from renamed
