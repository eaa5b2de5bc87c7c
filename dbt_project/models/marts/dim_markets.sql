with

locations as (

    select * from {{ ref('stg_square__locations') }}

),

ranked as (

    select
        *,
        -- vendors name their own location at a market; one active location speaks for it
        row_number() over (
            partition by market_id
            order by
                case when is_active then 0 else 1 end,
                location_name,
                vendor_id,
                location_id
        ) as location_rank

    from locations

),

markets as (

    select
        market_id,
        location_name as market_name,
        latitude,
        longitude,
        timezone,
        country

    from ranked

    where location_rank = 1

)

select * from markets
