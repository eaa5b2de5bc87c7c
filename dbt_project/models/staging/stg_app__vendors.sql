with

source as (

    select * from {{ source('raw', 'vendors') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,

        ---------- text
        vendor_name,

        ---------- booleans
        active as is_active,

        ---------- timestamps
        registered_at

    from source

)

select * from renamed
