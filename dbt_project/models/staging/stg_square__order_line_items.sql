-- tests of an incremental run read only the days it rebuilt (macros/get_where_subquery.sql)
{{ config(meta={'day_column': 'market_date'}) }}

with

source as (

    select * from {{ source('raw', 'square_order_line_items') }}

),

completed as (

    select * from source
    where state = 'COMPLETED'

),

renamed as (

    select

        ---------- ids
        vendor_id,
        order_id,
        line_uid,
        location_id,
        catalog_object_id as variation_id,

        ---------- text
        item_type,
        line_name,
        quantity_unit,
        currency,

        ---------- numerics
        quantity,
        base_price_amount,
        gross_sales_amount,

        ---------- booleans
        item_type = 'CUSTOM_AMOUNT' as is_custom_amount,

        ---------- dates
        market_date,

        ---------- timestamps
        closed_at

    from completed

)

select * from renamed
