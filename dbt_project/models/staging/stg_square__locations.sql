with

source as (

    select * from {{ source('raw', 'square_locations') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,
        location_id,
        market_id,

        ---------- text
        location_name,
        timezone,
        country,

        ---------- numerics
        latitude,
        longitude,

        ---------- booleans
        status = 'ACTIVE' as is_active

    from source

)

select * from renamed
