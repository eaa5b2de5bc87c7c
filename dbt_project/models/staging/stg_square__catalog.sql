with

source as (

    select * from {{ source('raw', 'square_catalog') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,
        variation_id,
        item_id,
        category_id,

        ---------- text
        item_name,
        variation_name,
        category_name,
        currency,

        ---------- numerics
        price_amount,

        ---------- booleans
        is_deleted,

        ---------- timestamps
        updated_at

    from source

)

select * from renamed
