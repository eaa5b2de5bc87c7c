{%- set run_date = marketprep.run_date() -%}

with

vendor_market_days as (

    select * from {{ ref('int_vendor_market_days') }}

),

recent_market_weekdays as (

    select distinct
        market_id,
        {{ marketprep.iso_day_of_week('market_date') }} as day_of_week

    from vendor_market_days

    where market_date >= {{ marketprep.lookback_start('attendance_lookback_days') }}
        and market_date < {{ run_date }}

),

horizon as (

    select
        {{ marketprep.add_days(run_date, 'offsets.day_offset') }} as market_date

    from {{ marketprep.day_offsets(marketprep.days_var('horizon_days') ~ ' - 1') }}
        as offsets (day_offset)

),

horizon_weekdays as (

    select
        market_date,
        {{ marketprep.iso_day_of_week('market_date') }} as day_of_week

    from horizon

),

calendar as (

    select
        recent_market_weekdays.market_id,
        horizon_weekdays.market_date,
        horizon_weekdays.day_of_week

    from horizon_weekdays

    inner join recent_market_weekdays
        on horizon_weekdays.day_of_week = recent_market_weekdays.day_of_week

)

select * from calendar
