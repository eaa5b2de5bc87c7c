with

source as (

    select * from {{ source('raw', 'events_fetch_status') }}

),

renamed as (

    select

        ---------- ids
        market_id,

        ---------- text
        source as events_source,
        problem as fetch_problem,

        ---------- booleans
        source is not null as events_known,

        ---------- dates
        event_date,

        ---------- timestamps
        fetched_at

    from source

)

select * from renamed
