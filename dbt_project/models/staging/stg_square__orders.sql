-- tests of an incremental run read only the days it rebuilt (macros/get_where_subquery.sql)
{{ config(meta={'day_column': 'market_date'}) }}

with

source as (

    select * from {{ source('raw', 'square_orders') }}

),

renamed as (

    select

        ---------- ids
        vendor_id,
        order_id,
        location_id,

        ---------- text
        state as order_state,
        currency,

        ---------- numerics
        order_version,
        total_amount,

        ---------- dates
        market_date,

        ---------- timestamps
        created_at,
        updated_at,
        closed_at

    from source

)

select * from renamed
