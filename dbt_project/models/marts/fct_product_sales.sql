{{ marketprep.config_rebuilt_by_day() }}

with

product_sales as (

    select * from {{ ref('int_product_sales_daily') }}
    where {{ marketprep.only_rebuilt_days() }}

),

vendor_market_days as (

    select * from {{ ref('int_vendor_market_days') }}
    where {{ marketprep.only_rebuilt_days() }}

),

selling_time as (

    -- how long the product sold (from the stall's first sale to the product's last) and how long
    -- the stall kept selling after the product's last sale
    select
        product_sales.*,
        {{ marketprep.seconds_between('vendor_market_days.first_sale_at', 'product_sales.last_sale_at') }}
            as selling_seconds,
        {{ marketprep.seconds_between('product_sales.last_sale_at', 'vendor_market_days.last_sale_at') }}
            as silent_seconds

    from product_sales

    inner join vendor_market_days
        on product_sales.vendor_id = vendor_market_days.vendor_id
        and product_sales.market_id = vendor_market_days.market_id
        and product_sales.market_date = vendor_market_days.market_date

),

sell_out as (

    -- A product that sold steadily and then stopped while the stall went on selling most likely
    -- ran out: at the rate it sold, it would have had this many more orders by closing.
    select
        *,
        case
            when selling_seconds >= {{ var('sell_out_min_selling_minutes') }} * 60
                then orders_count * silent_seconds / selling_seconds
            else 0
        end as expected_orders_after_last_sale

    from selling_time

),

final as (

    select
        vendor_id,
        market_id,
        product_id,
        market_date,
        cast(units_sold as double precision) as units_sold,
        orders_count,
        cast(gross_sales_amount as double precision) / 100 as gross_revenue,
        cast(net_sales_amount as double precision) / 100 as net_revenue,
        currency,
        first_sale_at,
        last_sale_at,
        cast(expected_orders_after_last_sale as double precision) as expected_orders_after_last_sale,
        -- with that many orders expected and none coming, "sold out" is the likely story (a
        -- Poisson count with mean 3 is zero 5 % of the time); vendor feedback overrides it in
        -- the feature table
        expected_orders_after_last_sale >= {{ var('sell_out_expected_orders') }} as is_sold_out_inferred

    from sell_out

)

select * from final
