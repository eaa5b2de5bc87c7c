with

source as (

    select * from {{ source('raw', 'vendor_feedback') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,
        market_id,
        product_id,

        ---------- dates
        market_date,

        ---------- numerics
        units_brought,
        units_sold,

        ---------- booleans
        sold_out as is_sold_out,

        ---------- timestamps
        imported_at

    from source

)

select * from renamed
