{{ config(pre_hook="{{ marketprep.hash_join_hints() }}") }}
{%- set run_date = marketprep.run_date() -%}
{%- set horizon_end = marketprep.add_days(run_date, marketprep.days_var('horizon_days') ~ ' - 1') -%}
{#- each value and the column naming its source; weather_source (temperature) predates the others -#}
{%- set values = {'temp_max_c': 'weather_source', 'temp_min_c': 'temp_min_source', 'precip_mm': 'precip_source'} -%}

with

weather as (

    select * from {{ ref('stg_weather__daily') }}

),

climatology as (

    select * from {{ ref('int_weather_climatology') }}

),

locations as (

    select * from {{ ref('stg_square__locations') }}

),

ranked as (

    select
        *,
        -- the fallback chain: observed archive, Open-Meteo's forecast, NWS's forecast
        case weather_source
            when 'open_meteo_archive' then 1
            when 'open_meteo_forecast' then 2
            when 'nws_forecast' then 3
            else 4
        end as source_rank

    from weather

),
{% for value in values %}
{{ value }}_candidates as (

    -- each value from the best source that has it: the archive lags a few days and reports
    -- nulls meanwhile, and NWS forecasts no precipitation amount
    select
        market_id,
        weather_date,
        {{ value }} as best_value,
        weather_source as best_source,
        row_number() over (
            partition by market_id, weather_date
            order by source_rank, weather_source
        ) as preference

    from ranked

    where {{ value }} is not null

),

best_{{ value }} as (

    select * from {{ value }}_candidates
    where preference = 1

),
{% endfor %}
market_starts as (

    -- weather is fetched for the days sales are, so a market's first weather day is no later
    -- than its first sale; a market without any yet still gets its planning days
    select market_id, weather_date as first_day from weather
    union all
    select market_id, {{ run_date }} as first_day from locations

),

spans as (

    select
        market_id,
        min(first_day) as first_day

    from market_starts

    group by market_id

),

days as (

    -- every day from the market's first weather to the end of the planning horizon, so a day
    -- no provider covered still gets its climatology
    select
        spans.market_id,
        {{ marketprep.add_days('spans.first_day', 'offsets.day_offset') }} as weather_date

    from spans

    cross join lateral
        {{ marketprep.day_offsets(marketprep.days_between('spans.first_day', horizon_end)) }}
        as offsets (day_offset)

),

final as (

    select
        days.market_id,
        days.weather_date,
        {% for value in values %}
        coalesce(best_{{ value }}.best_value, climatology.{{ value }}) as {{ value }},
        case
            when best_{{ value }}.best_value is not null then best_{{ value }}.best_source
            when climatology.{{ value }} is not null then 'climatology'
        end as {{ values[value] }}{{ ',' if not loop.last }}
        {% endfor %}

    from days
    {% for value in values %}
    left join best_{{ value }}
        on days.market_id = best_{{ value }}.market_id
        and days.weather_date = best_{{ value }}.weather_date
    {% endfor %}
    left join climatology
        on days.market_id = climatology.market_id
        and {{ marketprep.day_of_year('days.weather_date') }} = climatology.day_of_year

)

select * from final
