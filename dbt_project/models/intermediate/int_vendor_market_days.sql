{{ marketprep.config_rebuilt_by_day() }}

with

sale_lines as (

    select * from {{ ref('int_sale_lines') }}
    where {{ marketprep.only_rebuilt_days() }}

),

attended as (

    select
        vendor_id,
        market_id,
        market_date,
        count(distinct order_id) as orders_count,
        min(closed_at) as first_sale_at,
        max(closed_at) as last_sale_at

    from sale_lines

    group by vendor_id, market_id, market_date

)

select * from attended
