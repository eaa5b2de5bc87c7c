with

locations as (

    select * from {{ ref('stg_square__locations') }}

),

weekdays as (

    select * from {{ ref('int_market_weekdays') }}

),

seasons as (

    select * from {{ ref('int_market_seasons') }}

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

schedules as (

    select
        market_id,
        string_agg(
            case day_of_week
                when 1 then 'Mon'
                when 2 then 'Tue'
                when 3 then 'Wed'
                when 4 then 'Thu'
                when 5 then 'Fri'
                when 6 then 'Sat'
                else 'Sun'
            end,
            ',' order by day_of_week
        ) as market_weekdays,
        min(weekday_source) as weekday_source

    from weekdays

    group by market_id

),

markets as (

    select
        ranked.market_id,
        ranked.location_name as market_name,
        ranked.latitude,
        ranked.longitude,
        ranked.timezone,
        ranked.country,
        schedules.market_weekdays,
        schedules.weekday_source,
        seasons.season_start,
        seasons.season_end,
        seasons.season_source

    from ranked

    left join schedules
        on ranked.market_id = schedules.market_id

    left join seasons
        on ranked.market_id = seasons.market_id

    where ranked.location_rank = 1

)

select * from markets
