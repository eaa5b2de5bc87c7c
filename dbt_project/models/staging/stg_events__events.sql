with

source as (

    select * from {{ source('raw', 'events') }}

),

not_deleted as (

    select * from source
    where state <> 'deleted'

),

renamed as (

    select

        ---------- ids
        market_id,
        event_id,

        ---------- text
        title as event_title,
        category as event_category,
        state as event_state,

        ---------- numerics
        attendance,
        rank as event_rank,

        ---------- dates
        start_date,
        end_date,

        ---------- timestamps
        fetched_at

    from not_deleted

)

select * from renamed
