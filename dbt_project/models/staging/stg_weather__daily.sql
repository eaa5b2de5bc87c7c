with

source as (

    select * from {{ source('raw', 'weather_daily') }}

),

renamed as (

    select

        ---------- ids
        market_id,

        ---------- text
        source as weather_source,

        ---------- numerics
        temp_max_c,
        temp_min_c,
        precip_mm,

        ---------- dates
        weather_date,

        ---------- timestamps
        fetched_at

    from source

)

select * from renamed
