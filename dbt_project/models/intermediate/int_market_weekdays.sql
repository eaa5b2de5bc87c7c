{%- set run_date = marketprep.run_date() -%}

with

vendor_market_days as (

    select * from {{ ref('int_vendor_market_days') }}

),

overrides as (

    select * from {{ ref('stg_app__market_schedule_overrides') }}

),

market_days as (

    select distinct
        market_id,
        market_date

    from vendor_market_days

    where market_date < {{ run_date }}

),

last_days as (

    select
        market_id,
        max(market_date) as last_market_date

    from market_days

    group by market_id

),

inferred as (

    -- the weekdays of the market's last eight weeks of activity, so a seasonal market keeps
    -- last season's weekdays through the winter
    select distinct
        market_days.market_id,
        {{ marketprep.iso_day_of_week('market_days.market_date') }} as day_of_week

    from market_days

    inner join last_days
        on market_days.market_id = last_days.market_id

    where market_days.market_date > {{ marketprep.add_days('last_days.last_market_date', '-' ~ marketprep.days_var('attendance_lookback_days')) }}

),

configured as (

    select distinct
        market_id,
        day_of_week

    from overrides

    where schedule_rule = 'weekday'

),

final as (

    select
        market_id,
        day_of_week,
        'configured' as weekday_source

    from configured

    union all

    select
        market_id,
        day_of_week,
        'inferred' as weekday_source

    from inferred

    where not exists (
        select 1 from configured
        where configured.market_id = inferred.market_id
    )

)

select * from final
