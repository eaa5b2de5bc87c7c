with

weather as (

    select * from {{ ref('stg_weather__daily') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by market_id, weather_date
            order by
                -- the archive lags a few days and reports nulls meanwhile: a row with values
                -- beats any row without
                case when coalesce(temp_max_c, temp_min_c, precip_mm) is null then 1 else 0 end,
                case weather_source
                    when 'open_meteo_archive' then 0
                    when 'open_meteo_forecast' then 1
                    else 2
                end,
                weather_source
        ) as preference

    from weather

),

best as (

    select
        market_id,
        weather_date,
        weather_source,
        temp_max_c,
        temp_min_c,
        precip_mm

    from ranked

    where preference = 1

)

select * from best
