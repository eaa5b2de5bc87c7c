{#- Incremental: a run rewrites the rows whose inputs may have changed (macros/feature_rebuild.sql
    says which, and why the others stand). `cutoff` is none on a full build. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=["{{ marketprep.wide_join_hints() }}", "{{ marketprep.delete_rebuilt_features() }}"],
    post_hook=["{{ marketprep.save_feature_state() }}"],
) }}
{%- set run_date = marketprep.run_date() -%}
{%- set cutoff = marketprep.feature_cutoff() -%}
{%- set partial = cutoff is not none -%}
{%- if partial -%}
    {%- set cutoff_date = "cast('" ~ cutoff ~ "' as date)" -%}
{%- endif -%}

with

vendors as (

    select * from {{ ref('stg_app__vendors') }}

),

vendor_market_days as (

    select * from {{ ref('int_vendor_market_days') }}

),

product_sales as (

    select * from {{ ref('fct_product_sales') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

markets as (

    select * from {{ ref('dim_markets') }}

),

market_calendar as (

    select * from {{ ref('market_calendar') }}

),

weather as (

    select * from {{ ref('int_weather_best') }}

),

events as (

    select * from {{ ref('int_events_daily') }}

),

events_status as (

    select * from {{ ref('stg_events__fetch_status') }}

),

feedback as (

    select * from {{ ref('stg_app__vendor_feedback') }}

),

public_holidays as (

    select * from {{ ref('stg_calendar__public_holidays') }}

),

past_sales as (

    select * from product_sales
    where market_date < {{ run_date }}

),

past_units as (

    -- each series' past days: units as the vendor reported them (cash sales included) where it
    -- did, else Square's count, which units, lags, rolling means and last season read; orders
    -- and the last sale as Square recorded them
    select
        coalesce(past_sales.vendor_id, reported.vendor_id) as vendor_id,
        coalesce(past_sales.market_id, reported.market_id) as market_id,
        coalesce(past_sales.product_id, reported.product_id) as product_id,
        coalesce(past_sales.market_date, reported.market_date) as market_date,
        coalesce(reported.units_sold, past_sales.units_sold) as units_sold,
        past_sales.orders_count,
        past_sales.last_sale_at,
        past_sales.is_sold_out_inferred

    from past_sales

    full outer join (
        select * from feedback
        where market_date < {{ run_date }} and units_sold is not null
    ) as reported
        on past_sales.vendor_id = reported.vendor_id
        and past_sales.market_id = reported.market_id
        and past_sales.product_id = reported.product_id
        and past_sales.market_date = reported.market_date

),

series as (

    -- a product the vendor sold at the market within the lookback: its series starts at its
    -- first sale there, so days before the product existed are not counted as zero sales
    {{ marketprep.feature_series_sql() }}

),
{% if partial %}
rebuilt_series as (

    -- series whose state changed since the last build: rewritten from their first day
    select * from {{ marketprep.feature_state_relation('rebuilt_series') }}

),

lag_floors as (

    -- the 8th attendance before the cutoff: the earliest day a rewritten row's lags read
    select
        vendor_id,
        market_id,
        min(market_date) as floor_date

    from (
        select
            vendor_id,
            market_id,
            market_date,
            row_number() over (
                partition by vendor_id, market_id
                order by market_date desc
            ) as attendances_back

        from vendor_market_days

        where market_date < {{ cutoff_date }}
    ) as before_cutoff

    where attendances_back <= 8

    group by vendor_id, market_id

),
{% endif %}
history_days as (

    select
        series.vendor_id,
        series.market_id,
        series.product_id,
        series.first_sale_date,
        series.last_sale_date,
        vendor_market_days.market_date,
        {%- if partial %}
        -- a row this run writes; the others are read only for their successors' lags
        rebuilt_series.vendor_id is not null
            or vendor_market_days.market_date >= {{ cutoff_date }} as is_rewritten
        {%- else %}
        true as is_rewritten
        {%- endif %}

    from series

    inner join products
        on series.vendor_id = products.vendor_id
        and series.product_id = products.product_id

    inner join vendor_market_days
        on series.vendor_id = vendor_market_days.vendor_id
        and series.market_id = vendor_market_days.market_id
    {%- if partial %}

    left join rebuilt_series
        on series.vendor_id = rebuilt_series.vendor_id
        and series.market_id = rebuilt_series.market_id
        and series.product_id = rebuilt_series.product_id

    left join lag_floors
        on series.vendor_id = lag_floors.vendor_id
        and series.market_id = lag_floors.market_id
    {%- endif %}

    where vendor_market_days.market_date >= series.first_sale_date
        and vendor_market_days.market_date < {{ run_date }}
        -- a deleted product keeps its history, but not zeros after it left the stall
        and (not products.is_deleted or vendor_market_days.market_date <= series.last_sale_date)
        {%- if partial %}
        and (
            rebuilt_series.vendor_id is not null
            or vendor_market_days.market_date >= coalesce(lag_floors.floor_date, {{ cutoff_date }})
        )
        {%- endif %}

),

history as (

    select
        history_days.vendor_id,
        history_days.market_id,
        history_days.product_id,
        history_days.first_sale_date,
        history_days.last_sale_date,
        history_days.market_date,
        history_days.is_rewritten,
        coalesce(past_units.units_sold, 0) as units_sold,
        coalesce(past_units.orders_count, 0) as orders_count,
        past_units.last_sale_at,
        coalesce(past_units.is_sold_out_inferred, false) as is_sold_out_inferred

    from history_days

    left join past_units
        on history_days.vendor_id = past_units.vendor_id
        and history_days.market_id = past_units.market_id
        and history_days.product_id = past_units.product_id
        and history_days.market_date = past_units.market_date

),

history_with_lags as (

    select
        *,
        lag(units_sold, 1) over series_days as lag_units_1,
        lag(units_sold, 2) over series_days as lag_units_2,
        avg(units_sold) over (
            series_days rows between 4 preceding and 1 preceding
        ) as rolling_mean_units_4,
        avg(units_sold) over (
            series_days rows between 8 preceding and 1 preceding
        ) as rolling_mean_units_8

    from history

    window series_days as (
        partition by vendor_id, market_id, product_id
        order by market_date
    )

),

history_tails as (

    -- what the occurrence after each history day would see as its lag features
    select
        vendor_id,
        market_id,
        product_id,
        units_sold as next_lag_units_1,
        lag(units_sold, 1) over series_days as next_lag_units_2,
        avg(units_sold) over (
            series_days rows between 3 preceding and current row
        ) as next_rolling_mean_units_4,
        avg(units_sold) over (
            series_days rows between 7 preceding and current row
        ) as next_rolling_mean_units_8,
        row_number() over (
            partition by vendor_id, market_id, product_id
            order by market_date desc
        ) as recency

    from history

    window series_days as (
        partition by vendor_id, market_id, product_id
        order by market_date
    )

),

latest_history as (

    select * from history_tails
    where recency = 1

),

market_days_held as (

    -- the days each market was held (some vendor sold there) before run_date, latest first
    select
        market_id,
        market_date,
        row_number() over (partition by market_id order by market_date desc) as recency

    from (
        select distinct market_id, market_date
        from vendor_market_days
        where market_date < {{ run_date }}
    ) as held

),

forecastable_vendor_markets as (

    -- an active vendor still at the market: it sold there in the last attendance_lookback_days,
    -- or on one of the market's last attendance_lookback_market_days days, so that a seasonal
    -- market's vendors are forecast for its opening days after the winter
    select distinct
        vendor_market_days.vendor_id,
        vendor_market_days.market_id

    from vendor_market_days

    inner join vendors
        on vendor_market_days.vendor_id = vendors.vendor_id

    inner join market_days_held
        on vendor_market_days.market_id = market_days_held.market_id
        and vendor_market_days.market_date = market_days_held.market_date

    where vendors.is_active
        and (
            vendor_market_days.market_date >= {{ marketprep.lookback_start('attendance_lookback_days') }}
            or market_days_held.recency <= {{ var('attendance_lookback_market_days') }}
        )

),

future as (

    select
        series.vendor_id,
        series.market_id,
        series.product_id,
        series.first_sale_date,
        series.last_sale_date,
        market_calendar.market_date,
        latest_history.next_lag_units_1 as lag_units_1,
        latest_history.next_lag_units_2 as lag_units_2,
        latest_history.next_rolling_mean_units_4 as rolling_mean_units_4,
        latest_history.next_rolling_mean_units_8 as rolling_mean_units_8

    from series

    inner join products
        on series.vendor_id = products.vendor_id
        and series.product_id = products.product_id

    inner join forecastable_vendor_markets
        on series.vendor_id = forecastable_vendor_markets.vendor_id
        and series.market_id = forecastable_vendor_markets.market_id

    inner join market_calendar
        on series.market_id = market_calendar.market_id

    inner join latest_history
        on series.vendor_id = latest_history.vendor_id
        and series.market_id = latest_history.market_id
        and series.product_id = latest_history.product_id

    where not products.is_deleted

),

series_days as (

    select
        vendor_id,
        market_id,
        product_id,
        first_sale_date,
        last_sale_date,
        market_date,
        false as is_future,
        units_sold,
        orders_count,
        last_sale_at,
        is_sold_out_inferred,
        lag_units_1,
        lag_units_2,
        rolling_mean_units_4,
        rolling_mean_units_8

    from history_with_lags

    where is_rewritten

    union all

    select
        vendor_id,
        market_id,
        product_id,
        first_sale_date,
        last_sale_date,
        market_date,
        true as is_future,
        cast(null as double precision) as units_sold,
        cast(null as integer) as orders_count,
        cast(null as timestamptz) as last_sale_at,
        false as is_sold_out_inferred,
        lag_units_1,
        lag_units_2,
        rolling_mean_units_4,
        rolling_mean_units_8

    from future

),

final as (

    select
        series_days.vendor_id,
        series_days.market_id,
        series_days.product_id,
        products.product_name,
        products.category,
        markets.country,
        markets.timezone,
        series_days.market_date,
        series_days.is_future,
        series_days.units_sold,
        cast(series_days.orders_count as integer) as orders_count,
        series_days.last_sale_at,
        products.unit_price,
        products.currency,
        weather.temp_max_c,
        weather.precip_mm,
        weather.weather_source,
        cast(coalesce(events.total_attendance, 0) as double precision) as event_attendance,
        cast(coalesce(events.events_count, 0) as integer) as events_count,
        series_days.lag_units_1,
        series_days.rolling_mean_units_4,
        weather.precip_source,
        -- what this series sold on its market day 52 weeks earlier (same weekday), if it was one
        case
            when last_season_day.market_date >= series_days.first_sale_date
                and last_season_day.market_date < {{ run_date }}
                and (not products.is_deleted or last_season_day.market_date <= series_days.last_sale_date)
                then coalesce(last_season_sales.units_sold, 0)
        end as units_same_day_last_season,
        series_days.lag_units_2,
        series_days.rolling_mean_units_8,
        {{ marketprep.days_between('series_days.first_sale_date', 'series_days.market_date') }}
            as product_age_days,
        public_holidays.holiday_date is not null as is_holiday,
        public_holidays.holiday_name,
        -- a day no events source answered for is unknown, not eventless: the counts above are
        -- then whatever an earlier fetch found (0 if none)
        coalesce(events_status.events_known, false) as events_known,
        events_status.events_source,
        feedback.units_brought,
        -- a sold-out day is censored demand: demand was at least what sold. Reported, or
        -- inferred when everything brought was sold; without feedback, inferred from the sales
        -- pattern (fct_product_sales.is_sold_out_inferred)
        coalesce(
            feedback.is_sold_out,
            feedback.units_brought > 0
                and series_days.units_sold >= feedback.units_brought,
            series_days.is_sold_out_inferred
        ) and not series_days.is_future as is_censored,
        case
            when series_days.is_future then null
            when feedback.is_sold_out is not null or feedback.units_brought > 0 then 'feedback'
            when series_days.is_sold_out_inferred then 'sales_pattern'
        end as censoring_source

    from series_days

    inner join products
        on series_days.vendor_id = products.vendor_id
        and series_days.product_id = products.product_id

    inner join markets
        on series_days.market_id = markets.market_id

    left join weather
        on series_days.market_id = weather.market_id
        and series_days.market_date = weather.weather_date

    left join events
        on series_days.market_id = events.market_id
        and series_days.market_date = events.event_date

    left join events_status
        on series_days.market_id = events_status.market_id
        and series_days.market_date = events_status.event_date

    -- its history row 52 weeks earlier, if it had one (looked up, not read from history: an
    -- incremental run computes history only from shortly before its cutoff)
    left join vendor_market_days as last_season_day
        on series_days.vendor_id = last_season_day.vendor_id
        and series_days.market_id = last_season_day.market_id
        and last_season_day.market_date = {{ marketprep.add_days('series_days.market_date', '-364') }}

    left join past_units as last_season_sales
        on series_days.vendor_id = last_season_sales.vendor_id
        and series_days.market_id = last_season_sales.market_id
        and series_days.product_id = last_season_sales.product_id
        and last_season_sales.market_date = {{ marketprep.add_days('series_days.market_date', '-364') }}

    left join public_holidays
        on markets.country = public_holidays.country
        and series_days.market_date = public_holidays.holiday_date

    left join feedback
        on series_days.vendor_id = feedback.vendor_id
        and series_days.market_id = feedback.market_id
        and series_days.product_id = feedback.product_id
        and series_days.market_date = feedback.market_date
        and not series_days.is_future

)

select * from final
