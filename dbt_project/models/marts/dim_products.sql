with

catalog as (

    select * from {{ ref('stg_square__catalog') }}

),

item_variation_counts as (

    select
        vendor_id,
        item_id,
        count(*) as variations_count

    from catalog

    group by vendor_id, item_id

),

products as (

    select
        catalog.vendor_id,
        catalog.variation_id as product_id,
        catalog.item_id,
        -- the variation name only tells variations of one item apart ("Regular" otherwise)
        case
            when item_variation_counts.variations_count > 1
                and coalesce(trim(catalog.variation_name), '') <> ''
                then catalog.item_name || ' - ' || catalog.variation_name
            else catalog.item_name
        end as product_name,
        catalog.category_name as category,
        cast(catalog.price_amount as double precision) / 100 as unit_price,
        catalog.currency,
        catalog.is_deleted

    from catalog

    inner join item_variation_counts
        on catalog.vendor_id = item_variation_counts.vendor_id
        and catalog.item_id = item_variation_counts.item_id

)

select * from products
