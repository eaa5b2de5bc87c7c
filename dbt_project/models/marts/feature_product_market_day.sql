{%- set run_date = marketprep.run_date() -%}

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

past_sales as (

    select * from product_sales
    where market_date < {{ run_date }}

),

series as (

    -- a product the vendor sold at the market within the lookback: its series starts at its
    -- first sale there, so days before the product existed are not counted as zero sales
    select
        vendor_id,
        market_id,
        product_id,
        min(market_date) as first_sale_date,
        max(market_date) as last_sale_date

    from past_sales

    group by vendor_id, market_id, product_id

    having max(market_date) >= {{ marketprep.lookback_start('product_lookback_days') }}

),

history_days as (

    select
        series.vendor_id,
        series.market_id,
        series.product_id,
        vendor_market_days.market_date

    from series

    inner join products
        on series.vendor_id = products.vendor_id
        and series.product_id = products.product_id

    inner join vendor_market_days
        on series.vendor_id = vendor_market_days.vendor_id
        and series.market_id = vendor_market_days.market_id

    where vendor_market_days.market_date >= series.first_sale_date
        and vendor_market_days.market_date < {{ run_date }}
        -- a deleted product keeps its history, but not zeros after it left the stall
        and (not products.is_deleted or vendor_market_days.market_date <= series.last_sale_date)

),

history as (

    select
        history_days.vendor_id,
        history_days.market_id,
        history_days.product_id,
        history_days.market_date,
        coalesce(past_sales.units_sold, 0) as units_sold,
        coalesce(past_sales.orders_count, 0) as orders_count,
        past_sales.last_sale_at

    from history_days

    left join past_sales
        on history_days.vendor_id = past_sales.vendor_id
        and history_days.market_id = past_sales.market_id
        and history_days.product_id = past_sales.product_id
        and history_days.market_date = past_sales.market_date

),

history_with_lags as (

    select
        *,
        lag(units_sold) over series_days as lag_units_1,
        avg(units_sold) over (
            series_days rows between 4 preceding and 1 preceding
        ) as rolling_mean_units_4

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
        avg(units_sold) over (
            series_days rows between 3 preceding and current row
        ) as next_rolling_mean_units_4,
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

forecastable_vendor_markets as (

    select distinct
        vendor_market_days.vendor_id,
        vendor_market_days.market_id

    from vendor_market_days

    inner join vendors
        on vendor_market_days.vendor_id = vendors.vendor_id

    where vendors.is_active
        and vendor_market_days.market_date >= {{ marketprep.lookback_start('attendance_lookback_days') }}
        and vendor_market_days.market_date < {{ run_date }}

),

future as (

    select
        series.vendor_id,
        series.market_id,
        series.product_id,
        market_calendar.market_date,
        latest_history.next_lag_units_1 as lag_units_1,
        latest_history.next_rolling_mean_units_4 as rolling_mean_units_4

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
        market_date,
        false as is_future,
        units_sold,
        orders_count,
        last_sale_at,
        lag_units_1,
        rolling_mean_units_4

    from history_with_lags

    union all

    select
        vendor_id,
        market_id,
        product_id,
        market_date,
        true as is_future,
        cast(null as double precision) as units_sold,
        cast(null as integer) as orders_count,
        cast(null as timestamptz) as last_sale_at,
        lag_units_1,
        rolling_mean_units_4

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
        -- what the vendor reported selling (cash sales included) corrects Square's count
        coalesce(feedback.units_sold, series_days.units_sold) as units_sold,
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
        -- a day no events source answered for is unknown, not eventless: the counts above are
        -- then whatever an earlier fetch found (0 if none)
        coalesce(events_status.events_known, false) as events_known,
        events_status.events_source,
        feedback.units_brought,
        -- a sold-out day is censored demand: demand was at least what sold. Reported, or
        -- inferred when everything brought was sold.
        coalesce(
            feedback.is_sold_out,
            feedback.units_brought > 0
                and coalesce(feedback.units_sold, series_days.units_sold) >= feedback.units_brought,
            false
        ) and not series_days.is_future as is_censored

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

    left join feedback
        on series_days.vendor_id = feedback.vendor_id
        and series_days.market_id = feedback.market_id
        and series_days.product_id = feedback.product_id
        and series_days.market_date = feedback.market_date
        and not series_days.is_future

)

select * from final
