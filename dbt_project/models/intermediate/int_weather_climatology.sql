{%- set run_date = marketprep.run_date() -%}

with

weather as (

    select * from {{ ref('stg_weather__daily') }}

),

history as (

    -- observed history only: a forecast is not yet the market's weather
    select
        market_id,
        {{ marketprep.day_of_year('weather_date') }} as day_of_year,
        temp_max_c,
        temp_min_c,
        precip_mm

    from weather

    where weather_source = 'open_meteo_archive'
        and weather_date < {{ run_date }}

),

windows as (

    -- each observed day counts towards the days of the year within climatology_window_days of
    -- its own, apart on the circle of the year, so 31 December and 1 January are neighbours (a
    -- leap year's 366th day counts as the 1st of the next: one day, no matter for a normal).
    -- Each day is spread over its window (2 w + 1 days, and the 366th wherever the 1st is)
    -- rather than every day compared with every day of the year.
    select
        history.market_id,
        windowed.day_of_year,
        history.temp_max_c,
        history.temp_min_c,
        history.precip_mm

    from history

    cross join {{ marketprep.day_offsets('2 * ' ~ marketprep.days_var('climatology_window_days')) }}
        as offsets (day_offset)

    cross join lateral (
        -- 1 .. 365: the day of the year this offset lands on, counted modulo 365
        select
            mod(history.day_of_year - 1 + offsets.day_offset
                - {{ marketprep.days_var('climatology_window_days') }} + 3650, 365) + 1
            as day_of_year
    ) as landed

    cross join lateral (
        select landed.day_of_year
        union all
        select 366 where landed.day_of_year = 1
    ) as windowed (day_of_year)

),

normals as (

    -- averaged as decimals: a sum of doubles depends on the order the rows arrive in, which a
    -- parallel aggregate changes from run to run, and the feature table's incremental runs
    -- compare each day's inputs with the last build's
    select
        market_id,
        day_of_year,
        cast(avg(cast(temp_max_c as decimal(18, 6))) as double precision) as temp_max_c,
        count(temp_max_c) as temp_max_days,
        cast(avg(cast(temp_min_c as decimal(18, 6))) as double precision) as temp_min_c,
        count(temp_min_c) as temp_min_days,
        cast(avg(cast(precip_mm as decimal(18, 6))) as double precision) as precip_mm,
        count(precip_mm) as precip_days

    from windows

    group by market_id, day_of_year

),

final as (

    select
        market_id,
        day_of_year,
        {% for column, days in [('temp_max_c', 'temp_max_days'), ('temp_min_c', 'temp_min_days'), ('precip_mm', 'precip_days')] %}
        case
            when {{ days }} >= {{ marketprep.days_var('climatology_min_days') }} then {{ column }}
        end as {{ column }},
        {% endfor %}
        cast(greatest(temp_max_days, temp_min_days, precip_days) as integer) as days_observed

    from normals

    where greatest(temp_max_days, temp_min_days, precip_days)
        >= {{ marketprep.days_var('climatology_min_days') }}

)

select * from final
