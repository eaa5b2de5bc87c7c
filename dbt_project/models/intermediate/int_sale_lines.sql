{{ marketprep.config_rebuilt_by_day() }}

with

line_items as (

    select * from {{ ref('stg_square__order_line_items') }}
    where {{ marketprep.only_rebuilt_days() }}

),

orders as (

    -- no day filter here: the join to the rebuilt days' line items picks the orders
    select * from {{ ref('stg_square__orders') }}
    where order_state = 'COMPLETED'

),

locations as (

    select * from {{ ref('stg_square__locations') }}

),

returns as (

    select * from {{ ref('stg_square__order_returns') }}
    where is_linked

),

returned_per_line as (

    select
        vendor_id,
        source_order_id as order_id,
        source_line_uid as line_uid,
        sum(returned_quantity) as returned_quantity,
        sum(coalesce(gross_return_amount, 0)) as returned_amount

    from returns

    group by vendor_id, source_order_id, source_line_uid

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
        line_items.quantity as sold_quantity,
        coalesce(returned_per_line.returned_quantity, 0) as returned_quantity,
        -- a return nets out of the day the item was sold: that is when it left the stall;
        -- it never takes back more than the line sold, even if a feed says so
        greatest(line_items.quantity - coalesce(returned_per_line.returned_quantity, 0), 0)
            as quantity,
        line_items.gross_sales_amount,
        coalesce(returned_per_line.returned_amount, 0) as returned_amount,
        greatest(line_items.gross_sales_amount - coalesce(returned_per_line.returned_amount, 0), 0)
            as net_sales_amount,
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

    left join returned_per_line
        on line_items.vendor_id = returned_per_line.vendor_id
        and line_items.order_id = returned_per_line.order_id
        and line_items.line_uid = returned_per_line.line_uid

)

select * from located
