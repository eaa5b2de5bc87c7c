with

events as (

    select * from {{ ref('stg_events__events') }}

),

event_days as (

    select
        events.market_id,
        events.event_id,
        events.attendance,
        {{ marketprep.add_days('events.start_date', 'offsets.day_offset') }} as event_date

    from events

    cross join lateral
        {{ marketprep.day_offsets(marketprep.days_between('events.start_date', 'events.end_date')) }}
        as offsets (day_offset)

),

daily as (

    select
        market_id,
        event_date,
        count(*) as events_count,
        cast(sum(attendance) as bigint) as total_attendance

    from event_days

    group by market_id, event_date

)

select * from daily
