-- tests of an incremental run read only the days it rebuilt (macros/get_where_subquery.sql)
{{ config(meta={'day_column': 'returned_on'}) }}

with

source as (

    select * from {{ source('raw', 'square_order_returns') }}

),

completed as (

    select * from source
    where state = 'COMPLETED'

),

renamed as (

    select

        ---------- ids
        vendor_id,
        order_id as return_order_id,
        line_uid as return_line_uid,
        source_order_id,
        source_line_uid,
        location_id,
        catalog_object_id as variation_id,

        ---------- text
        item_type,
        line_name,
        quantity_unit,
        currency,

        ---------- numerics
        quantity as returned_quantity,
        base_price_amount,
        gross_return_amount,

        ---------- booleans
        -- an unlinked return (no receipt) names no sale line, so there is nothing to net it against
        source_order_id is not null and source_line_uid is not null as is_linked,

        ---------- dates
        market_date as returned_on,

        ---------- timestamps
        closed_at as returned_at

    from completed

)

select * from renamed
