with

line_items as (

    select * from {{ ref('stg_square__order_line_items') }}

),

orders as (

    select * from {{ ref('stg_square__orders') }}
    where order_state = 'COMPLETED'

),

locations as (

    select * from {{ ref('stg_square__locations') }}

),

located as (

    select
        line_items.vendor_id,
        locations.market_id,
        line_items.market_date,
        line_items.order_id,
        line_items.line_uid,
        line_items.variation_id,
        line_items.is_custom_amount,
        line_items.quantity,
        line_items.gross_sales_amount,
        line_items.currency,
        orders.closed_at

    from line_items

    -- the order is the record of the sale: only lines of a loaded, completed order count
    inner join orders
        on line_items.vendor_id = orders.vendor_id
        and line_items.order_id = orders.order_id

    inner join locations
        on line_items.vendor_id = locations.vendor_id
        and line_items.location_id = locations.location_id

)

select * from located
