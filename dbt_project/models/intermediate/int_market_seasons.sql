{%- set run_date = marketprep.run_date() -%}
{%- set year_ago = marketprep.add_days(run_date, '-365') -%}

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

spans as (

    select
        market_id,
        min(market_date) as first_market_date

    from market_days

    group by market_id

),

last_year as (

    -- only a market with a whole year of sales shows whether it pauses for a season
    select market_days.*

    from market_days

    inner join spans
        on market_days.market_id = spans.market_id

    where spans.first_market_date <= {{ year_ago }}
        and market_days.market_date >= {{ year_ago }}

),

gaps as (

    -- the break after each market day, up to the next; the last one wraps round the year to
    -- the first market day of the window
    select
        market_id,
        market_date as gap_after,
        coalesce(
            lead(market_date) over market_year,
            min(market_date) over market_year
        ) as gap_until,
        {{ marketprep.days_between(
            'market_date',
            'coalesce(lead(market_date) over market_year, ' ~ marketprep.add_days('min(market_date) over market_year', '365') ~ ')'
        ) }} as gap_days

    from last_year

    window market_year as (
        partition by market_id
        order by market_date
        rows between unbounded preceding and unbounded following
    )

),

longest_gaps as (

    select
        *,
        row_number() over (
            partition by market_id
            order by gap_days desc, gap_after
        ) as gap_rank

    from gaps

),

inferred as (

    select
        market_id,
        {{ marketprep.month_day('gap_until') }} as season_start,
        {{ marketprep.month_day('gap_after') }} as season_end

    from longest_gaps

    where gap_rank = 1
        and gap_days > {{ marketprep.days_var('season_gap_days') }}

),

configured as (

    select
        market_id,
        season_start,
        season_end

    from overrides

    where schedule_rule = 'season'

),

final as (

    select
        market_id,
        season_start,
        season_end,
        'configured' as season_source

    from configured

    union all

    select
        market_id,
        season_start,
        season_end,
        'inferred' as season_source

    from inferred

    where not exists (
        select 1 from configured
        where configured.market_id = inferred.market_id
    )

)

select * from final
