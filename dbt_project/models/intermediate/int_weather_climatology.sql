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

days_of_year as (

    select offsets.day_offset + 1 as day_of_year

    from {{ marketprep.day_offsets('365') }} as offsets (day_offset)

),

windows as (

    select
        history.market_id,
        days_of_year.day_of_year,
        history.temp_max_c,
        history.temp_min_c,
        history.precip_mm

    from history

    cross join days_of_year

    -- days apart on the circle of the year, so 31 December and 1 January are neighbours (a
    -- leap year's 366th day counts as the 1st of the next: one day, no matter for a normal)
    where least(
        abs(history.day_of_year - days_of_year.day_of_year),
        365 - abs(history.day_of_year - days_of_year.day_of_year)
    ) <= {{ marketprep.days_var('climatology_window_days') }}

),

normals as (

    select
        market_id,
        day_of_year,
        avg(temp_max_c) as temp_max_c,
        count(temp_max_c) as temp_max_days,
        avg(temp_min_c) as temp_min_c,
        count(temp_min_c) as temp_min_days,
        avg(precip_mm) as precip_mm,
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
