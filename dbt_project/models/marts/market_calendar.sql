{%- set run_date = marketprep.run_date() -%}

with

markets as (

    select * from {{ ref('dim_markets') }}

),

weekdays as (

    select * from {{ ref('int_market_weekdays') }}

),

seasons as (

    select * from {{ ref('int_market_seasons') }}

),

overrides as (

    select * from {{ ref('stg_app__market_schedule_overrides') }}

),

vendor_market_days as (

    select * from {{ ref('int_vendor_market_days') }}

),

horizon as (

    select
        {{ marketprep.add_days(run_date, 'offsets.day_offset') }} as market_date

    from {{ marketprep.day_offsets(marketprep.days_var('horizon_days') ~ ' - 1') }}
        as offsets (day_offset)

),

horizon_days as (

    select
        market_date,
        {{ marketprep.iso_day_of_week('market_date') }} as day_of_week,
        {{ marketprep.month_day('market_date') }} as month_day

    from horizon

),

recently_held as (

    select distinct market_id

    from vendor_market_days

    where market_date >= {{ marketprep.lookback_start('attendance_lookback_days') }}
        and market_date < {{ run_date }}

),

configured as (

    select distinct market_id
    from overrides

),

closures as (

    select
        market_id,
        closed_on

    from overrides

    where schedule_rule = 'closed'

),

scheduled as (

    select
        weekdays.market_id,
        horizon_days.market_date,
        horizon_days.day_of_week,
        horizon_days.month_day

    from horizon_days

    inner join weekdays
        on horizon_days.day_of_week = weekdays.day_of_week

    inner join markets
        on weekdays.market_id = markets.market_id

),

calendar as (

    select
        scheduled.market_id,
        scheduled.market_date,
        scheduled.day_of_week

    from scheduled

    left join seasons
        on scheduled.market_id = seasons.market_id

    left join recently_held
        on scheduled.market_id = recently_held.market_id

    left join configured
        on scheduled.market_id = configured.market_id

    left join closures
        on scheduled.market_id = closures.market_id
        and scheduled.market_date = closures.closed_on

    where {{ marketprep.in_season('scheduled.month_day', 'seasons.season_start', 'seasons.season_end') }}
        and closures.market_id is null
        -- a market still running: held lately, configured by the operator, or seasonal (its
        -- season is back); a year-round market nobody sold at for eight weeks has stopped
        and (
            recently_held.market_id is not null
            or configured.market_id is not null
            or seasons.market_id is not null
        )

)

select * from calendar
