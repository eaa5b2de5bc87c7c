with

product_sales as (

    select * from {{ ref('int_product_sales_daily') }}

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
        currency,
        first_sale_at,
        last_sale_at

    from product_sales

)

select * from final
