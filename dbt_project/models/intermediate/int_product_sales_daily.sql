{{ marketprep.config_rebuilt_by_day() }}

with

sale_lines as (

    select * from {{ ref('int_sale_lines') }}
    where {{ marketprep.only_rebuilt_days() }}

),

catalog_lines as (

    select * from sale_lines
    where variation_id is not null

),

aggregated as (

    select
        vendor_id,
        market_id,
        variation_id as product_id,
        market_date,
        sum(quantity) as units_sold,
        count(distinct order_id) as orders_count,
        sum(gross_sales_amount) as gross_sales_amount,
        sum(net_sales_amount) as net_sales_amount,
        -- a Square account has one currency, so any line's currency is the day's
        max(currency) as currency,
        min(closed_at) as first_sale_at,
        max(closed_at) as last_sale_at

    from catalog_lines

    group by vendor_id, market_id, variation_id, market_date

)

select * from aggregated
